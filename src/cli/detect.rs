//! `kiln detect model image...`: finds objects and draws their boxes. For each image it prints the
//! detections and writes `<stem>.detections.png` (labelled boxes) and `<stem>.detections.json`;
//! with `--bench` it instead times every stage on each backend of `--backend` (a comma list,
//! `cpu` naming the CPU reference backend) and prints the medians and frames per second.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Instant;

use image::RgbImage;
use kiln::device::{BackendChoice, Gpu, GpuOptions};
use kiln::runtime::Backend;
use kiln::vision::{
    draw_detections, for_each_image, load_detection_model, load_image_capped, parse_anchors,
    write_detections_json, DecodeDevice, DetectionModel, Detector, DetectorOptions, HeadChoice,
    HeadOptions, ModelOptions, NmsOptions, StageMedians, StageTimes, DEFAULT_MAX_IMAGE_PIXELS,
};
use kiln::Error;

use crate::cli::DeviceArgs;

/// Arguments of `kiln detect`.
#[derive(clap::Args)]
pub struct DetectArgs {
    /// The detection model: a Darknet `.cfg` (`.weights` beside it), a `.kiln` or an ONNX file.
    pub model: PathBuf,
    /// The images (JPEG or PNG), read, detected and written one at a time. One that fails is
    /// reported and skipped, the others still processed; the exit status is then 1.
    #[arg(required = true)]
    pub images: Vec<PathBuf>,
    /// Skip, with an error naming it, an image whose header declares more pixels (width·height)
    /// than this; checked before decoding.
    #[arg(long, value_name = "PIXELS", default_value_t = DEFAULT_MAX_IMAGE_PIXELS)]
    pub max_image_pixels: u64,
    /// Class names, one per line (default: the model's metadata, or `<model>.names` or
    /// `coco.names` beside the model).
    #[arg(long, value_name = "FILE")]
    pub names: Option<PathBuf>,
    /// Keep candidates scoring at least this.
    #[arg(long, default_value_t = 0.25)]
    pub score_threshold: f32,
    /// NMS drops a box overlapping a kept box of its class by more than this IoU.
    #[arg(long, default_value_t = 0.45)]
    pub iou_threshold: f32,
    /// Keep at most this many boxes per image.
    #[arg(long, default_value_t = 300)]
    pub max_detections: usize,
    /// The network input, `SIZE` or `WIDTHxHEIGHT` (default: the model's, else 640).
    #[arg(long, value_name = "SIZE", value_parser = parse_input_size)]
    pub input_size: Option<[u32; 2]>,
    /// Head kind: auto, darknet, yolov5, anchor-free or objectness.
    #[arg(long, default_value = "auto")]
    pub head: HeadChoice,
    /// Anchors of ONNX anchor grids: `w,h` pairs per grid, grids separated by `/`.
    #[arg(long, value_name = "LIST")]
    pub anchors: Option<String>,
    /// Decode on the CPU even when the model runs on the GPU (reads back the whole heads).
    #[arg(long)]
    pub cpu_decode: bool,
    /// Run on the CPU reference backend instead of the GPU.
    #[arg(long)]
    pub cpu: bool,
    /// Where the PNG and JSON files go.
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub output_dir: PathBuf,
    /// Time each stage instead of writing files: medians over --iters runs on every backend.
    #[arg(long)]
    pub bench: bool,
    /// Timed runs per backend with --bench.
    #[arg(long, default_value_t = 20)]
    pub iters: usize,
    /// Untimed runs before timing (compile pipelines, fill the buffer pool).
    #[arg(long, default_value_t = 2)]
    pub warmup: usize,
}

fn parse_input_size(text: &str) -> Result<[u32; 2], String> {
    let parse = |part: &str| {
        part.trim()
            .parse::<u32>()
            .ok()
            .filter(|&extent| extent > 0)
            .ok_or_else(|| format!("'{text}' is not SIZE or WIDTHxHEIGHT (positive integers)"))
    };
    match text.split_once('x') {
        Some((width, height)) => Ok([parse(width)?, parse(height)?]),
        None => parse(text).map(|side| [side, side]),
    }
}

fn invalid(detail: String) -> Error {
    Error::InvalidArgument {
        op: "kiln detect",
        detail,
    }
}

/// One entry of `--backend`: a GPU backend choice, or the CPU reference backend.
#[derive(Clone, Copy, Debug, PartialEq)]
enum BackendItem {
    Gpu(BackendChoice),
    Cpu,
}

/// `--backend` split on commas (`cpu` is the CPU reference backend); `--cpu` means `cpu` alone.
fn parse_backends(device: &DeviceArgs, cpu: bool) -> kiln::Result<Vec<BackendItem>> {
    if cpu {
        return Ok(vec![BackendItem::Cpu]);
    }
    device
        .backend_text
        .split(',')
        .map(|item| match item.trim().to_ascii_lowercase().as_str() {
            "cpu" => Ok(BackendItem::Cpu),
            other => other.parse().map(BackendItem::Gpu),
        })
        .collect()
}

fn detector_options(args: &DetectArgs) -> kiln::Result<DetectorOptions> {
    for (name, value) in [
        ("--score-threshold", args.score_threshold),
        ("--iou-threshold", args.iou_threshold),
    ] {
        if !(0.0..=1.0).contains(&value) {
            return Err(invalid(format!("{name} {value} is outside [0, 1]")));
        }
    }
    if args.max_detections == 0 || args.iters == 0 {
        return Err(invalid(
            "--max-detections and --iters must be at least 1".into(),
        ));
    }
    Ok(DetectorOptions {
        score_threshold: args.score_threshold,
        nms: NmsOptions {
            iou_threshold: args.iou_threshold,
            max_detections: args.max_detections,
            ..NmsOptions::default()
        },
        heads: HeadOptions {
            choice: args.head,
            classes: None,
            anchors: args.anchors.as_deref().map(parse_anchors).transpose()?,
        },
        decode: if args.cpu_decode {
            DecodeDevice::Cpu
        } else {
            DecodeDevice::Auto
        },
    })
}

/// Runs `kiln detect`: loads the model, then streams the images through it one at a time.
/// Returns failure when any image was skipped.
pub fn execute(device: &DeviceArgs, args: DetectArgs) -> kiln::Result<ExitCode> {
    let backends = parse_backends(device, args.cpu)?;
    let mut options = detector_options(&args)?;
    let started = Instant::now();
    let model = load_detection_model(
        &args.model,
        &ModelOptions {
            input_size: args.input_size,
            names_file: args.names.clone(),
        },
    )?;
    // A names file given on purpose fixes the class count; found ones only label.
    options.heads.classes = args.names.as_ref().map(|_| model.names.len());
    println!(
        "model: {} ({} nodes), input {}×{}, {} class names, loaded in {:.0} ms",
        args.model.display(),
        model.graph.nodes.len(),
        model.input_size[0],
        model.input_size[1],
        model.names.len(),
        started.elapsed().as_secs_f64() * 1e3
    );
    if args.bench {
        // Timing cycles over the images, so they are all held; --bench takes a few frames.
        let images = args
            .images
            .iter()
            .map(|path| {
                Ok((
                    path.clone(),
                    load_image_capped(path, args.max_image_pixels)?,
                ))
            })
            .collect::<kiln::Result<Vec<_>>>()?;
        for item in backends {
            bench_backend(device, item, &model, &options, &images, &args)?;
        }
        return Ok(ExitCode::SUCCESS);
    }
    let gpu = open_gpu(device, backends[0])?;
    let mut detector = make_detector(&model, gpu.as_ref(), options)?;
    print_setup(&detector, gpu.as_ref());
    let report = for_each_image(
        &args.images,
        |path| load_image_capped(path, args.max_image_pixels),
        |path, image| detect_one(&mut detector, &model, &args.output_dir, path, image),
        |_, error| eprintln!("error: {error} (skipped)"),
    );
    if report.failures.is_empty() {
        return Ok(ExitCode::SUCCESS);
    }
    eprintln!(
        "error: {} of {} images failed: {}",
        report.failures.len(),
        args.images.len(),
        report
            .failures
            .iter()
            .map(|(path, _)| path.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(ExitCode::FAILURE)
}

/// Detects the objects of one image, prints them and writes its PNG and JSON.
fn detect_one(
    detector: &mut Detector<'_>,
    model: &DetectionModel,
    output_dir: &Path,
    path: &Path,
    mut image: RgbImage,
) -> kiln::Result<()> {
    let (detections, times) = detector.detect(&image)?;
    print_detections(path, &image, &detections, &times, model);
    draw_detections(&mut image, &detections, &model.names)?;
    let (png, json) = output_paths(output_dir, path)?;
    image.save(&png).map_err(|error| Error::Io {
        path: png.display().to_string(),
        detail: error.to_string(),
    })?;
    write_detections_json(&json, &detections, &model.names)?;
    println!("  wrote {} and {}", png.display(), json.display());
    Ok(())
}

fn open_gpu(device: &DeviceArgs, item: BackendItem) -> kiln::Result<Option<Gpu>> {
    match item {
        BackendItem::Cpu => Ok(None),
        BackendItem::Gpu(backend) => Gpu::new(&GpuOptions {
            backend,
            adapter: device.adapter.clone(),
        })
        .map(Some),
    }
}

fn make_detector<'a>(
    model: &DetectionModel,
    gpu: Option<&'a Gpu>,
    options: DetectorOptions,
) -> kiln::Result<Detector<'a>> {
    Detector::new(model, gpu.map_or(Backend::Cpu, Backend::Gpu), options)
}

/// The device's name and API, or the CPU backend.
fn device_label(gpu: Option<&Gpu>) -> String {
    match gpu {
        Some(gpu) => format!("{} ({:?})", gpu.info().name, gpu.info().backend),
        None => "CPU reference backend".into(),
    }
}

fn print_setup(detector: &Detector<'_>, gpu: Option<&Gpu>) {
    println!("device: {}", device_label(gpu));
    for head in detector.heads() {
        println!("head: {head}");
    }
}

fn output_paths(output_dir: &Path, image: &Path) -> kiln::Result<(PathBuf, PathBuf)> {
    std::fs::create_dir_all(output_dir).map_err(|error| Error::io(output_dir, error))?;
    let stem = image.file_stem().map_or_else(
        || "image".into(),
        |stem| stem.to_string_lossy().into_owned(),
    );
    Ok((
        output_dir.join(format!("{stem}.detections.png")),
        output_dir.join(format!("{stem}.detections.json")),
    ))
}

fn print_detections(
    path: &Path,
    image: &RgbImage,
    detections: &[kiln::vision::Detection],
    times: &StageTimes,
    model: &DetectionModel,
) {
    let ms = |duration: std::time::Duration| duration.as_secs_f64() * 1e3;
    println!(
        "{} ({}×{}): {} detections in {:.1} ms (preprocess {:.1}, inference {:.1}, decode {:.1}, readback {:.1}, nms {:.2})",
        path.display(),
        image.width(),
        image.height(),
        detections.len(),
        ms(times.total()),
        ms(times.preprocess),
        ms(times.inference),
        ms(times.decode),
        ms(times.readback),
        ms(times.nms)
    );
    for detection in detections {
        let b = detection.bbox;
        println!(
            "  {:<16} {:.3}  [{:.0}, {:.0}, {:.0}, {:.0}]",
            model.names.name(detection.class),
            detection.score,
            b.x1,
            b.y1,
            b.x2,
            b.y2
        );
    }
}

/// Times `--iters` runs (after `--warmup`) over the images in turn on one backend; on a GPU once
/// with the GPU decode and once with the CPU decode, so the two can be compared.
fn bench_backend(
    device: &DeviceArgs,
    item: BackendItem,
    model: &DetectionModel,
    options: &DetectorOptions,
    images: &[(PathBuf, RgbImage)],
    args: &DetectArgs,
) -> kiln::Result<()> {
    let gpu = open_gpu(device, item)?;
    let decodes: &[(DecodeDevice, &str)] = match item {
        BackendItem::Gpu(_) => &[
            (DecodeDevice::Auto, "GPU decode"),
            (DecodeDevice::Cpu, "CPU decode"),
        ],
        BackendItem::Cpu => &[(DecodeDevice::Cpu, "CPU decode")],
    };
    let mut rows = Vec::new();
    for &(decode, decode_label) in decodes {
        let options = DetectorOptions {
            decode,
            ..options.clone()
        };
        let mut detector = make_detector(model, gpu.as_ref(), options)?;
        if rows.is_empty() {
            print_setup(&detector, gpu.as_ref());
        }
        let frames = images.iter().map(|(_, image)| image).cycle();
        for image in frames.clone().take(args.warmup) {
            detector.detect(image)?;
        }
        let runs = frames
            .take(args.iters)
            .map(|image| detector.detect(image).map(|(_, times)| times))
            .collect::<kiln::Result<Vec<_>>>()?;
        let medians = StageMedians::of(&runs).ok_or_else(|| invalid("no timed runs".into()))?;
        let backend_label = match &gpu {
            Some(gpu) => format!("{:?}", gpu.info().backend).to_ascii_lowercase(),
            None => "cpu".into(),
        };
        rows.push(medians.row(&format!("{backend_label}, {decode_label}")));
    }
    println!(
        "\nmedian ms per stage over {} runs ({} warm-up), input {}×{}:",
        args.iters, args.warmup, model.input_size[0], model.input_size[1]
    );
    println!("{}", StageMedians::header());
    for row in rows {
        println!("{row}");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_size_is_a_side_or_width_by_height() {
        assert_eq!(parse_input_size("416"), Ok([416, 416]));
        assert_eq!(parse_input_size("640x480"), Ok([640, 480]));
        assert!(parse_input_size("0").is_err());
        assert!(parse_input_size("640x").is_err());
    }

    #[test]
    fn backend_list_names_gpu_backends_and_cpu() {
        let device = DeviceArgs {
            backend_text: "vulkan, cpu".into(),
            backend: BackendChoice::Auto,
            adapter: None,
        };
        assert_eq!(
            parse_backends(&device, false).unwrap(),
            vec![BackendItem::Gpu(BackendChoice::Vulkan), BackendItem::Cpu]
        );
        assert_eq!(
            parse_backends(&device, true).unwrap(),
            vec![BackendItem::Cpu]
        );
    }
}
