//! Placeholder: the required-encryption-context materials manager (being written).

use async_trait::async_trait;

use super::{DecryptionMaterialsRequest, EncryptionMaterialsRequest, MaterialsManager};
use crate::error::{Error, Result};
use crate::materials::{DecryptionMaterials, EncryptionMaterials};

/// Requires a set of encryption context keys, authenticated but not stored in the message.
#[derive(Debug)]
pub struct RequiredEncryptionContextMaterialsManager {}

#[async_trait]
impl MaterialsManager for RequiredEncryptionContextMaterialsManager {
    async fn encryption_materials(&self, _request: EncryptionMaterialsRequest) -> Result<EncryptionMaterials> {
        Err(Error::usage("not implemented"))
    }

    async fn decryption_materials(&self, _request: DecryptionMaterialsRequest) -> Result<DecryptionMaterials> {
        Err(Error::usage("not implemented"))
    }
}
