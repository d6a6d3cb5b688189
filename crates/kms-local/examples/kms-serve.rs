//! `envelope kms serve` in strict mode, without the rest of the CLI: the same `Emulator::open` and
//! `serve` on the same runtime (multi-thread, two workers, as `envelope`'s `runtime::start`), so
//! that the load benchmark can run with only this crate built (the CLI links the S3, DynamoDB and
//! SSO clients too, which take far longer to compile in release).
//!
//! ```text
//! cargo run --release -p envelope-kms-local --example kms-serve -- \
//!     --listen 127.0.0.1:0 --data-dir DIR --credentials FILE
//! ```
//!
//! Prints `listening on http://ADDR` like `envelope kms serve`; runs until killed. Strict mode
//! only: `--credentials` is required.

use std::io::Write as _;

use envelope_kms_local::{Emulator, Settings};

fn main() {
    let (mut listen, mut data_dir, mut credentials) = ("127.0.0.1:0".to_owned(), None, None);
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        let value = it.next().unwrap_or_else(|| panic!("{flag} needs a value"));
        match flag.as_str() {
            "--listen" => listen = value,
            "--data-dir" => data_dir = Some(value),
            "--credentials" => credentials = Some(value),
            other => panic!("unknown flag {other}"),
        }
    }
    let mut settings = Settings::new(data_dir.expect("--data-dir is required"));
    settings.credentials = Some(credentials.expect("--credentials is required (strict mode only)").into());
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_name("envelope-async")
        .enable_all()
        .build()
        .expect("tokio runtime");
    runtime.block_on(async move {
        let emu = Emulator::open(&settings).expect("opening the data directory");
        let listener = tokio::net::TcpListener::bind(&listen).await.expect("binding --listen");
        println!("listening on http://{}", listener.local_addr().expect("local address"));
        std::io::stdout().flush().expect("stdout");
        emu.serve(listener, std::future::pending()).await;
    });
}
