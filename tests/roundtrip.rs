//! Every suite, frame lengths around the plaintext length, one-shot and streaming.

mod common;

use std::io::{Read, Write};

use common::{client_for, context, plaintext, read_streaming};
use envelope::{AlgorithmSuite, DecryptOptions, EncryptOptions};

#[test]
fn every_suite_round_trips_one_shot_and_streaming() {
    for suite in AlgorithmSuite::ESDK {
        let client = client_for(suite);
        for (len, frame) in [(0, 4096), (1, 1), (100, 99), (100, 100), (100, 101), (10_000, 512), (4096, 4096)] {
            let data = plaintext(len);
            let options =
                EncryptOptions::new().algorithm_suite(suite).frame_length(frame).encryption_context(context());
            let message = client.encrypt(&data, &options).unwrap();
            let decrypted = client.decrypt(&message, &DecryptOptions::new()).unwrap();
            assert_eq!(decrypted.plaintext, data, "suite {suite} len {len} frame {frame}");
            assert_eq!(decrypted.info.algorithm_suite, suite);
            for (key, value) in context() {
                assert_eq!(decrypted.info.encryption_context.get(&key), Some(&value));
            }

            let mut writer = client.encrypting_writer(Vec::new(), &options).unwrap();
            for piece in data.chunks(37) {
                writer.write_all(piece).unwrap();
            }
            let streamed = writer.finish().unwrap();
            assert_eq!(
                read_streaming(&client, &streamed).unwrap(),
                data,
                "streaming suite {suite} len {len} frame {frame}"
            );
            // The one-shot reader reads what the streaming writer wrote, and the other way round.
            assert_eq!(client.decrypt(&streamed, &DecryptOptions::new()).unwrap().plaintext, data);
            assert_eq!(read_streaming(&client, &message).unwrap(), data);
        }
    }
}

#[test]
fn large_signed_messages_use_the_parallel_path_and_still_verify() {
    for suite in [AlgorithmSuite::DEFAULT, AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256] {
        let client = client_for(suite);
        let data = plaintext(3 * 1024 * 1024 + 17);
        let options = EncryptOptions::new().algorithm_suite(suite);
        let message = client.encrypt(&data, &options).unwrap();
        assert_eq!(client.decrypt(&message, &DecryptOptions::new()).unwrap().plaintext, data);
        assert_eq!(read_streaming(&client, &message).unwrap(), data);
        let mut tampered = message.clone();
        let middle = tampered.len() / 2;
        tampered[middle] ^= 1;
        assert!(client.decrypt(&tampered, &DecryptOptions::new()).is_err());
    }
}

/// Blocking streams past 1 MiB hash on a worker thread; what they write and read must still verify,
/// and a bad signature must still stop the last frame.
#[test]
fn long_signed_streams_hash_on_another_core_and_still_verify() {
    for suite in [AlgorithmSuite::DEFAULT, AlgorithmSuite::Aes128GcmIv12Tag16HkdfSha256EcdsaP256] {
        let client = client_for(suite);
        let data = plaintext(5 * 1024 * 1024 + 4099);
        let options = EncryptOptions::new().algorithm_suite(suite).frame_length(4000);
        let mut writer = client.encrypting_writer(Vec::new(), &options).unwrap();
        for (index, piece) in data.chunks(65_537).enumerate() {
            // Uneven writes: some below a frame, some spanning many.
            let (a, b) = piece.split_at(piece.len().min(index * 13 % 4001));
            writer.write_all(a).unwrap();
            writer.write_all(b).unwrap();
        }
        let message = writer.finish().unwrap();
        assert_eq!(client.decrypt(&message, &DecryptOptions::new()).unwrap().plaintext, data);
        assert_eq!(read_streaming(&client, &message).unwrap(), data);

        let mut bad_signature = message.clone();
        *bad_signature.last_mut().unwrap() ^= 1;
        let mut reader = client.decrypting_reader(&bad_signature[..], &DecryptOptions::new()).unwrap();
        let mut released = Vec::new();
        assert!(reader.read_to_end(&mut released).is_err(), "suite {suite}: a bad signature must fail");
        assert!(released.len() < data.len(), "the last frame is held back when the signature fails");
    }
}

#[test]
fn frame_layout_is_exact() {
    // 10 bytes in frames of 4: two regular frames and a 2-byte final frame.
    let client = client_for(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey);
    let options = EncryptOptions::new().algorithm_suite(AlgorithmSuite::Aes256GcmHkdfSha512CommitKey).frame_length(4);
    let message = client.encrypt(&plaintext(10), &options).unwrap();
    let body_len = 2 * (4 + 12 + 4 + 16) + (4 + 4 + 12 + 4 + 2 + 16);
    let body = &message[message.len() - body_len..];
    assert_eq!(&body[..4], &[0, 0, 0, 1]);
    assert_eq!(&body[4..16], &[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
    let last = &body[2 * 36..];
    assert_eq!(&last[..8], &[0xff, 0xff, 0xff, 0xff, 0, 0, 0, 3]);
    assert_eq!(&last[20..24], &[0, 0, 0, 2]);
}

/// A plaintext that fills its last frame ends with an empty final frame (as the Python and Java
/// SDKs write it; their 1.x–3.x readers refuse a full final frame), one-shot and streaming.
#[test]
fn a_full_last_frame_is_followed_by_an_empty_final_frame() {
    let suite = AlgorithmSuite::from_id(0x0478).unwrap();
    let client = client_for(suite);
    let options = EncryptOptions::new().algorithm_suite(suite).frame_length(4);
    let one_shot = |len: usize| client.encrypt(&plaintext(len), &options).unwrap().len();
    let streamed = |len: usize| {
        let mut writer = client.encrypting_writer(Vec::new(), &options).unwrap();
        writer.write_all(&plaintext(len)).unwrap();
        writer.finish().unwrap().len()
    };
    // Regular frame: sequence 4 + IV 12 + content + tag 16. Final frame: marker 4 + sequence 4 +
    // IV 12 + length 4 + content + tag 16. Eight bytes: two regular frames and an empty final
    // frame (72 + 36); seven bytes: one regular frame and a final frame of three (36 + 39).
    for size in [&one_shot as &dyn Fn(usize) -> usize, &streamed] {
        assert_eq!(size(8) - size(7), (2 * 36 + 36) - (36 + 39));
        assert_eq!(size(4) - size(3), (36 + 36) - 39);
    }
}
