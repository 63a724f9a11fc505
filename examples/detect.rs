//! YOLO-style detection through kiln's library API, step by step: load a model (Darknet `.cfg` or
//! ONNX), plan it on the GPU, detect objects in an image, draw the labelled boxes and write the
//! JSON list.
//!
//! ```sh
//! scripts/fetch_detection_assets.sh
//! cargo run --release --example detect -- models/yolov3-tiny.cfg models/photos/dog.jpg
//! ```

use std::path::Path;
use std::process::ExitCode;

use kiln::device::Gpu;
use kiln::runtime::Backend;
use kiln::vision::{
    draw_detections, load_detection_model, load_image, write_detections_json, Detector,
    DetectorOptions, ModelOptions,
};

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [model_path, image_path] = args.as_slice() else {
        eprintln!("usage: detect MODEL(.cfg|.onnx) IMAGE");
        return ExitCode::from(2);
    };
    match detect(Path::new(model_path), Path::new(image_path)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::FAILURE
        }
    }
}

fn detect(model_path: &Path, image_path: &Path) -> kiln::Result<()> {
    // 1. The model: graph, input size, heads declared by the file, class names.
    let model = load_detection_model(model_path, &ModelOptions::default())?;
    // 2. A device (KILN_BACKEND / KILN_ADAPTER choose it) and a plan on it: weights uploaded once.
    let gpu = Gpu::from_env()?;
    let options = DetectorOptions {
        score_threshold: 0.3,
        ..DetectorOptions::default()
    };
    let mut detector = Detector::new(&model, Backend::Gpu(&gpu), options)?;
    for head in detector.heads() {
        println!("head {head}");
    }
    // 3. Letterbox, inference, GPU decode, NMS; boxes come back in the image's pixels.
    let image = load_image(image_path)?;
    let (detections, times) = detector.detect(&image)?;
    for detection in &detections {
        println!(
            "{:<12} {:.2} {:?}",
            model.names.name(detection.class),
            detection.score,
            detection.bbox
        );
    }
    println!("{:.1} ms in all", times.total().as_secs_f64() * 1e3);
    // 4. The labelled PNG and the JSON list.
    let mut drawn = image.clone();
    draw_detections(&mut drawn, &detections, &model.names)?;
    drawn
        .save("detections.png")
        .map_err(|error| kiln::Error::Io {
            path: "detections.png".into(),
            detail: error.to_string(),
        })?;
    write_detections_json(Path::new("detections.json"), &detections, &model.names)?;
    println!("wrote detections.png and detections.json");
    Ok(())
}
