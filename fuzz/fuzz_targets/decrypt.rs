//! Full decrypt under a fixed raw AES key: one-shot, streaming, and streaming from a trickling
//! reader must agree. The checks live in `fuzz/checks.rs`, shared with `tests/fuzz_corpus.rs`.
#![no_main]

#[path = "../checks.rs"]
mod checks;

use envelope::blocking::BlockingClient;

thread_local! {
    // One client (and its current-thread runtime) per fuzzing thread, not one per input.
    static CLIENT: BlockingClient = checks::client();
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    CLIENT.with(|client| {
        checks::check_decrypt(client, data);
    });
});
