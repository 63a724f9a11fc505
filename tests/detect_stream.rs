//! `kiln detect` as a user runs it, on real photos (`models/photos`, fetched by
//! `scripts/fetch_detection_assets.sh`) with the toy detector of `tests/vision/toy_model.rs`
//! saved as ONNX: a forged PNG whose header claims 22000×22000 pixels, slipped between the photos,
//! is skipped with its name in the error, the photos still get their outputs, and the exit status
//! says that one failed.

#[allow(dead_code)]
#[path = "vision/toy_model.rs"]
mod toy_model;

use std::path::{Path, PathBuf};
use std::process::Command;

use kiln::import::onnx::save_onnx;

/// CRC-32 (IEEE, reflected, polynomial 0xEDB88320), as PNG chunks carry it.
fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for &byte in bytes {
        crc ^= u32::from(byte);
        for _ in 0..8 {
            crc = if crc & 1 == 1 {
                (crc >> 1) ^ 0xEDB8_8320
            } else {
                crc >> 1
            };
        }
    }
    !crc
}

fn chunk(kind: &[u8; 4], data: &[u8]) -> Vec<u8> {
    let mut typed = kind.to_vec();
    typed.extend_from_slice(data);
    let mut bytes = (data.len() as u32).to_be_bytes().to_vec();
    bytes.extend_from_slice(&typed);
    bytes.extend_from_slice(&crc32(&typed).to_be_bytes());
    bytes
}

/// A PNG of a few dozen bytes whose valid header declares `side`×`side` 8-bit RGB pixels (1.45 GB
/// decoded at 22000), followed by a token image-data chunk: only a decoder that trusts the header
/// would allocate for it.
fn forged_png(side: u32) -> Vec<u8> {
    let mut header = side.to_be_bytes().to_vec();
    header.extend_from_slice(&side.to_be_bytes());
    header.extend_from_slice(&[8, 2, 0, 0, 0]);
    let mut bytes = b"\x89PNG\r\n\x1a\n".to_vec();
    bytes.extend(chunk(b"IHDR", &header));
    bytes.extend(chunk(
        b"IDAT",
        &[0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01],
    ));
    bytes.extend(chunk(b"IEND", &[]));
    bytes
}

fn photos() -> Option<[PathBuf; 2]> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("models/photos");
    let photos = [root.join("dog.jpg"), root.join("kite.jpg")];
    if photos.iter().all(|photo| photo.exists()) {
        return Some(photos);
    }
    assert!(
        std::env::var_os("KILN_REQUIRE_DETECTION_ASSETS").is_none(),
        "models/photos is missing: run scripts/fetch_detection_assets.sh"
    );
    eprintln!("skipped: run scripts/fetch_detection_assets.sh for the photos");
    None
}

#[test]
fn oversized_image_is_skipped_by_name_and_the_others_are_written() {
    let Some([dog, kite]) = photos() else { return };
    let folder = std::env::temp_dir().join(format!("kiln-detect-stream-{}", std::process::id()));
    let output_dir = folder.join("out");
    std::fs::create_dir_all(&folder).unwrap();
    let model = folder.join("toy.onnx");
    save_onnx(&toy_model::toy_graph(), &model).unwrap();
    let names = folder.join("toy.names");
    std::fs::write(&names, "red\ngreen\nblue\n").unwrap();
    let huge = folder.join("huge.png");
    std::fs::write(&huge, forged_png(22_000)).unwrap();
    let output = Command::new(env!("CARGO_BIN_EXE_kiln"))
        .arg("detect")
        .args([&model, &dog, &huge, &kite])
        .args(["--cpu", "--anchors", "32,24", "--names"])
        .arg(&names)
        .arg("--output-dir")
        .arg(&output_dir)
        .output()
        .expect("the kiln binary runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "stderr: {stderr}");
    assert!(
        stderr.contains(&format!(
            "{}: the header declares 22000×22000",
            huge.display()
        )),
        "stderr: {stderr}"
    );
    for stem in ["dog", "kite"] {
        for extension in ["png", "json"] {
            let written = output_dir.join(format!("{stem}.detections.{extension}"));
            assert!(
                written.exists(),
                "{} missing; stderr: {stderr}",
                written.display()
            );
        }
    }
    assert!(!output_dir.join("huge.detections.png").exists());
    std::fs::remove_dir_all(&folder).unwrap();
}
