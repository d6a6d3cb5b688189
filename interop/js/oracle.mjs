#!/usr/bin/env node
// Interop oracle: the official JavaScript AWS Encryption SDK for Node.js (@aws-crypto/client-node)
// run over AWS Crypto Tools test-vector manifests. Same contract as ../python/esdk_oracle.py:
//
//   node oracle.mjs decrypt --manifest PATH            # awses-decrypt v1-v4 (file or directory)
//   node oracle.mjs encrypt --manifest PATH --out DIR  # awses-encrypt v1-v2 -> awses-decrypt v2
//
// Prints one line per failure and, last, `N passed, M failed, K skipped`; exits 1 when a test
// failed and 2 when the manifest could not be read. Skipped here: AWS KMS keys (no network), the
// required-encryption-context CMM (the JavaScript ESDK has none, and cannot hand a reproduced
// context to decrypt), and non-framed encryption (frame-size 0; the JavaScript ESDK only writes
// framed messages).
//
// The raw AES keyring is built with `utf8Sorting: true`. Its default (false) sorts the
// encryption context with String.prototype.localeCompare when it builds the wrapping AAD, which
// differs from the UTF-8 byte order every other implementation uses as soon as a key is not
// ASCII; ORACLE_JS_LEGACY_SORTING=1 restores the default to show that.

import { readFileSync, writeFileSync, mkdirSync, existsSync, readdirSync, statSync } from 'node:fs'
import { dirname, join, basename, resolve } from 'node:path'
import {
  constants,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  privateDecrypt,
  publicEncrypt,
  randomBytes,
} from 'node:crypto'
import { createRequire } from 'node:module'

const require = createRequire(import.meta.url)
const {
  buildClient,
  CommitmentPolicy,
  NodeAlgorithmSuite,
  RawAesKeyringNode,
  RawAesWrappingSuiteIdentifier,
  RawRsaKeyringNode,
  MultiKeyringNode,
} = require('@aws-crypto/client-node')
const CLIENT_VERSION = require('@aws-crypto/client-node/package.json').version

class Skip extends Error {}
class Fail extends Error {}

const KMS_TYPES = new Set([
  'aws-kms',
  'aws-kms-mrk-aware',
  'aws-kms-mrk-aware-discovery',
  'aws-kms-rsa',
  'aws-kms-hierarchy',
  'aws-kms-ecdh',
])

const AES_WRAPPING = {
  128: RawAesWrappingSuiteIdentifier.AES128_GCM_IV12_TAG16_NO_PADDING,
  192: RawAesWrappingSuiteIdentifier.AES192_GCM_IV12_TAG16_NO_PADDING,
  256: RawAesWrappingSuiteIdentifier.AES256_GCM_IV12_TAG16_NO_PADDING,
}

const UTF8_SORTING = !process.env.ORACLE_JS_LEGACY_SORTING

// Node.js (20.11.1+, 18.19.1+, 21.6.2+) refuses RSA_PKCS1_PADDING in privateDecrypt (the Marvin
// attack, CVE-2023-46809) unless started with --security-revert=CVE-2023-46809; run.sh does so.
// Without it a PKCS #1 v1.5 key cannot unwrap: such keys are left out on decrypt, and a test with
// no other usable key is reported skipped.
const PKCS1_DECRYPT = (() => {
  try {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 })
    const sealed = publicEncrypt({ key: publicKey, padding: constants.RSA_PKCS1_PADDING }, Buffer.from('probe'))
    return privateDecrypt({ key: privateKey, padding: constants.RSA_PKCS1_PADDING }, sealed).toString() === 'probe'
  } catch {
    return false
  }
})()
const PKCS1_UNAVAILABLE =
  'Node.js refuses RSA PKCS #1 v1.5 decryption (CVE-2023-46809); run node with --security-revert=CVE-2023-46809'

function rsaPadding(algorithm, hash) {
  if (algorithm === 'pkcs1') return { padding: constants.RSA_PKCS1_PADDING }
  if (algorithm === 'oaep-mgf1' && ['sha1', 'sha256', 'sha384', 'sha512'].includes(hash)) {
    return { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: hash }
  }
  return null
}

// --- manifest sources --------------------------------------------------------------------------

class Source {
  constructor(path) {
    if (statSync(path).isDirectory()) {
      this.base = path
      this.name = 'manifest.json'
    } else {
      if (path.endsWith('.zip')) throw new Error(`${path}: unzip it first (this oracle reads files)`)
      this.base = dirname(resolve(path))
      this.name = basename(path)
    }
  }
  read(uri) {
    if (uri.startsWith('file://')) uri = uri.slice('file://'.length)
    else if (uri.includes('://')) throw new Skip(`cannot read ${uri}: only file:// URIs are supported`)
    return readFileSync(join(this.base, uri))
  }
  manifest() {
    return JSON.parse(this.read(this.name).toString('utf8'))
  }
}

// --- keys manifest and key descriptions ----------------------------------------------------------

class Keys {
  constructor(keysJson) {
    if (keysJson?.manifest?.type !== 'keys') throw new Error(`keys manifest has type ${keysJson?.manifest?.type}`)
    this.keys = keysJson.keys
  }

  entry(name) {
    const e = this.keys[name]
    if (!e) throw new Fail(`key ${name} is not in the keys manifest`)
    return e
  }

  static symmetric(entry) {
    if ((entry.encoding ?? 'base64') !== 'base64') throw new Skip(`symmetric key encoding ${entry.encoding} unsupported`)
    const material = Buffer.from(entry.material, 'base64')
    const bits = Number(entry.bits ?? material.length * 8)
    if (bits !== material.length * 8) throw new Fail(`key says ${bits} bits but holds ${material.length * 8}`)
    return material
  }

  static rsa(entry) {
    const encoding = entry.encoding ?? 'pem'
    let input
    if (encoding === 'pem') input = { key: entry.material, format: 'pem' }
    else if (encoding === 'base64' || encoding === 'der') {
      input = { key: Buffer.from(entry.material, 'base64'), format: 'der', type: entry.type === 'private' ? 'pkcs8' : 'spki' }
    } else throw new Skip(`RSA key encoding ${encoding} unsupported`)
    if (entry.type === 'private') {
      const privateKey = createPrivateKey(input)
      return { privateKey, publicKey: createPublicKey(privateKey) }
    }
    return { privateKey: null, publicKey: createPublicKey(input) }
  }

  privatePartner(publicKey) {
    const want = publicKey.export({ format: 'der', type: 'spki' })
    for (const entry of Object.values(this.keys)) {
      if (entry.algorithm !== 'rsa' || entry.type !== 'private') continue
      try {
        const { privateKey, publicKey: pub } = Keys.rsa(entry)
        if (pub.export({ format: 'der', type: 'spki' }).equals(want)) return privateKey
      } catch {
        // unreadable entries are nobody's partner
      }
    }
    return null
  }

  // The keyring for one master-key description; null when it cannot decrypt (a public RSA key
  // with no private partner, on decrypt).
  keyring(d, decrypt) {
    if (KMS_TYPES.has(d.type)) throw new Skip(`${d.type} needs AWS KMS`)
    if (d.type === 'multi-keyring') {
      const list = [...(d.generator ? [d.generator] : []), ...(d.childKeyrings ?? [])]
      return this.multi(list, decrypt, Boolean(d.generator))
    }
    if (d.type !== 'raw') throw new Skip(`master key type ${d.type} unsupported`)
    const entry = this.entry(d.key)
    const keyNamespace = d['provider-id']
    const keyName = d['key-id'] ?? entry['key-id'] ?? d.key
    if (d['encryption-algorithm'] === 'aes') {
      const material = Keys.symmetric(entry)
      const wrappingSuite = AES_WRAPPING[material.length * 8]
      if (!wrappingSuite) throw new Fail(`no AES wrapping for a ${material.length * 8}-bit key`)
      return new RawAesKeyringNode({
        keyName,
        keyNamespace,
        unencryptedMasterKey: new Uint8Array(material),
        wrappingSuite,
        utf8Sorting: UTF8_SORTING,
      })
    }
    if (d['encryption-algorithm'] === 'rsa') {
      const padding = rsaPadding(d['padding-algorithm'], d['padding-hash'])
      if (!padding) throw new Skip(`RSA padding ${d['padding-algorithm']}/${d['padding-hash']} unsupported`)
      if (decrypt && padding.padding === constants.RSA_PKCS1_PADDING && !PKCS1_DECRYPT) {
        this.unavailable = PKCS1_UNAVAILABLE
        return null
      }
      let { privateKey, publicKey } = Keys.rsa(entry)
      if (decrypt && !privateKey) {
        privateKey = this.privatePartner(publicKey)
        if (!privateKey) return null
      }
      const rsaKey = {
        publicKey: publicKey.export({ format: 'pem', type: 'spki' }),
        ...(privateKey ? { privateKey: privateKey.export({ format: 'pem', type: 'pkcs8' }) } : {}),
      }
      return new RawRsaKeyringNode({ keyName, keyNamespace, rsaKey, ...padding })
    }
    throw new Skip(`raw encryption-algorithm ${d['encryption-algorithm']} unsupported`)
  }

  multi(descriptions, decrypt, firstIsGenerator = true) {
    this.unavailable = null
    let keyrings = descriptions.map((d) => this.keyring(d, decrypt))
    if (decrypt) {
      keyrings = keyrings.filter((k) => k !== null)
      if (keyrings.length === 0 && this.unavailable) throw new Skip(this.unavailable)
      if (keyrings.length === 0) throw new Fail('no master key here can decrypt (public keys only)')
      return keyrings.length === 1 ? keyrings[0] : new MultiKeyringNode({ children: keyrings })
    }
    if (keyrings.length === 0) throw new Fail('no master keys')
    if (keyrings.length === 1) return keyrings[0]
    if (firstIsGenerator) return new MultiKeyringNode({ generator: keyrings[0], children: keyrings.slice(1) })
    return new MultiKeyringNode({ children: keyrings })
  }
}

// --- reporting ----------------------------------------------------------------------------------

class Report {
  constructor(verbose) {
    this.passed = 0
    this.failed = 0
    this.skipped = 0
    this.verbose = verbose
  }
  async run(name, fn) {
    try {
      await fn()
      this.passed += 1
    } catch (e) {
      if (e instanceof Skip) {
        this.skipped += 1
        if (this.verbose) console.log(`SKIPPED ${name}: ${e.message}`)
      } else {
        this.failed += 1
        const reason = e instanceof Fail ? e.message : `${e?.name ?? 'Error'}: ${e?.message ?? e}`
        console.log(`FAILED ${name}: ${reason}`)
        if (process.env.ORACLE_TRACEBACK && !(e instanceof Fail)) console.error(e)
      }
    }
  }
  finish() {
    console.log(`${this.passed} passed, ${this.failed} failed, ${this.skipped} skipped`)
    return this.failed ? 1 : 0
  }
}

function stringMap(value, what) {
  if (value === undefined || value === null) return null
  if (typeof value !== 'object' || Array.isArray(value) || !Object.values(value).every((v) => typeof v === 'string')) {
    throw new Fail(`${what} must map strings to strings`)
  }
  return value
}

// --- decrypt ------------------------------------------------------------------------------------

const decryptClient = buildClient(CommitmentPolicy.REQUIRE_ENCRYPT_ALLOW_DECRYPT)

async function streamToBuffer(stream) {
  const chunks = []
  for await (const chunk of stream) chunks.push(chunk)
  return Buffer.concat(chunks)
}

async function decryptOne(source, keys, test) {
  const ciphertext = source.read(test.ciphertext)
  let expectedPlaintext = null
  let expectedError = null
  if (!test.result) expectedPlaintext = test.plaintext
  else if (test.result.output) expectedPlaintext = test.result.output.plaintext
  else if (test.result.error) expectedError = test.result.error['error-description'] ?? '(no description)'
  else throw new Fail('"result" has neither "output" nor "error"')

  const cmm = test.cmm ?? 'Default'
  if (cmm === 'RequiredEncryptionContext') {
    throw new Skip('the JavaScript ESDK has no required-encryption-context CMM')
  }
  if (cmm !== 'Default') throw new Skip(`cmm ${cmm} unsupported`)
  const reproduced = stringMap(test['encryption-context'], '"encryption-context"')
  const keyring = keys.multi(test['master-keys'], true)
  const method = test['decryption-method']

  let plaintext
  let header
  try {
    if (method === 'streaming-unsigned-only') {
      const stream = decryptClient.decryptUnsignedMessageStream(keyring)
      const done = streamToBuffer(stream)
      let headerPromise = new Promise((res) => stream.once('MessageHeader', res))
      stream.end(ciphertext)
      plaintext = await done
      header = await headerPromise
    } else if (method === undefined) {
      const out = await decryptClient.decrypt(keyring, ciphertext)
      plaintext = out.plaintext
      header = out.messageHeader
    } else {
      throw new Skip(`decryption-method ${method} unsupported`)
    }
  } catch (e) {
    if (e instanceof Skip || e instanceof Fail) throw e
    if (expectedError !== null) return // failed as expected
    throw new Fail(`decryption failed: ${e?.name ?? 'Error'}: ${e?.message ?? e}`)
  }
  // The JavaScript ESDK takes no reproduced context: check it against the message's own.
  if (reproduced) {
    for (const [k, v] of Object.entries(reproduced)) {
      if (header?.encryptionContext?.[k] !== v) {
        if (expectedError !== null) return
        throw new Fail(`reproduced encryption context pair ${JSON.stringify(k)} differs from the message's`)
      }
    }
  }
  if (expectedError !== null) throw new Fail(`decrypted, but the test expects an error (${expectedError})`)
  const expected = source.read(expectedPlaintext)
  if (!Buffer.from(plaintext).equals(expected)) {
    throw new Fail(`plaintext differs: got ${plaintext.length} bytes, expected ${expected.length}`)
  }
}

async function cmdDecrypt(args) {
  const source = new Source(args.manifest)
  const manifest = source.manifest()
  const h = manifest.manifest ?? {}
  if (h.type !== 'awses-decrypt' || ![1, 2, 3, 4].includes(h.version)) {
    console.error(`unsupported manifest ${JSON.stringify(h)} (this oracle reads awses-decrypt 1-4)`)
    return 2
  }
  const keys = new Keys(JSON.parse(source.read(manifest.keys).toString('utf8')))
  const report = new Report(args.verbose)
  for (const name of Object.keys(manifest.tests).sort()) {
    if (args.filter && !name.includes(args.filter)) continue
    await report.run(name, () => decryptOne(source, keys, manifest.tests[name]))
  }
  return report.finish()
}

// --- encrypt ------------------------------------------------------------------------------------

function fileName(name) {
  const cleaned = [...name].map((c) => (/^[A-Za-z0-9._-]$/.test(c) ? c : '_')).join('')
  return ['', '.', '..'].includes(cleaned) ? `_${cleaned}` : cleaned
}

const clients = new Map()
function clientFor(policy) {
  if (!clients.has(policy)) clients.set(policy, buildClient(policy))
  return clients.get(policy)
}

async function encryptOne(keys, manifest, test, plaintext) {
  const suiteId = parseInt(test.algorithm, 16)
  let suite
  try {
    suite = new NodeAlgorithmSuite(suiteId)
  } catch {
    throw new Fail(`unknown algorithm suite ${test.algorithm}`)
  }
  const cmm = test.cmm ?? 'Default'
  if (cmm === 'RequiredEncryptionContext') throw new Skip('the JavaScript ESDK has no required-encryption-context CMM')
  if (cmm !== 'Default') throw new Skip(`cmm ${cmm} unsupported`)
  const frameLength = Number(test['frame-size'] ?? 4096)
  if (frameLength === 0) throw new Skip('frame-size 0 (non-framed): the JavaScript ESDK writes only framed messages')
  const explicit = test['commitment-policy'] ?? manifest['commitment-policy']
  let policy
  if (explicit) {
    policy = CommitmentPolicy[explicit]
    if (!policy) throw new Fail(`unknown commitment policy ${explicit}`)
  } else {
    policy = suite.commitment === 'NONE' ? CommitmentPolicy.FORBID_ENCRYPT_ALLOW_DECRYPT : CommitmentPolicy.REQUIRE_ENCRYPT_REQUIRE_DECRYPT
  }
  const encryptionContext = stringMap(test['encryption-context'] ?? {}, '"encryption-context"')
  const keyring = keys.multi(test['master-keys'], false)
  const { result } = await clientFor(policy).encrypt(keyring, plaintext, { suiteId, frameLength, encryptionContext })
  const entry = {
    'master-keys': test['master-keys'],
    result: { output: { plaintext: `file://plaintexts/${fileName(test.plaintext)}` } },
  }
  if (test.description !== undefined) entry.description = test.description
  return { ciphertext: result, entry }
}

async function cmdEncrypt(args) {
  const source = new Source(args.manifest)
  const manifest = source.manifest()
  const h = manifest.manifest ?? {}
  if (h.type !== 'awses-encrypt' || ![1, 2].includes(h.version)) {
    console.error(`unsupported manifest ${JSON.stringify(h)} (this oracle reads awses-encrypt 1-2)`)
    return 2
  }
  const keysBytes = source.read(manifest.keys)
  const keys = new Keys(JSON.parse(keysBytes.toString('utf8')))
  const out = args.out
  if (existsSync(out) && readdirSync(out).length) {
    console.error(`${out} exists and is not empty`)
    return 2
  }
  mkdirSync(join(out, 'plaintexts'), { recursive: true })
  mkdirSync(join(out, 'ciphertexts'), { recursive: true })
  const plaintexts = {}
  for (const [name, size] of Object.entries(manifest.plaintexts ?? {})) {
    plaintexts[name] = randomBytes(Number(size))
    writeFileSync(join(out, 'plaintexts', fileName(name)), plaintexts[name])
  }
  const report = new Report(args.verbose)
  const written = {}
  const used = new Set()
  for (const [name, test] of Object.entries(manifest.tests)) {
    if (args.filter && !name.includes(args.filter)) continue
    await report.run(name, async () => {
      if (!(test.plaintext in plaintexts)) throw new Fail(`unknown plaintext ${test.plaintext}`)
      const { ciphertext, entry } = await encryptOne(keys, manifest, test, plaintexts[test.plaintext])
      let file = fileName(name)
      while (used.has(file)) file += '_'
      used.add(file)
      writeFileSync(join(out, 'ciphertexts', file), ciphertext)
      written[name] = { ciphertext: `file://ciphertexts/${file}`, ...entry }
    })
  }
  const decryptManifest = {
    manifest: { type: 'awses-decrypt', version: 2 },
    client: { name: 'aws-encryption-sdk-javascript', version: CLIENT_VERSION },
    keys: 'file://keys.json',
    tests: written,
  }
  writeFileSync(join(out, 'manifest.json'), JSON.stringify(decryptManifest, null, 2) + '\n')
  writeFileSync(join(out, 'keys.json'), keysBytes)
  return report.finish()
}

// --- command line -------------------------------------------------------------------------------

function parseArgs(argv) {
  const [command, ...rest] = argv
  const args = { command, verbose: false }
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]
    if (a === '--manifest' || a === '--out' || a === '--filter') args[a.slice(2)] = rest[++i]
    else if (a === '-v' || a === '--verbose') args.verbose = true
    else throw new Error(`unknown argument ${a}`)
  }
  if (!['decrypt', 'encrypt'].includes(command) || !args.manifest || (command === 'encrypt' && !args.out)) {
    throw new Error('usage: oracle.mjs decrypt --manifest PATH | encrypt --manifest PATH --out DIR [--filter TEXT] [-v]')
  }
  return args
}

try {
  const args = parseArgs(process.argv.slice(2))
  process.exitCode = args.command === 'decrypt' ? await cmdDecrypt(args) : await cmdEncrypt(args)
} catch (e) {
  console.error(`error: ${e?.message ?? e}`)
  process.exitCode = 2
}
