//! A small YOLO-style detector built in code (shared by `tests/vision.rs` and the GPU tests): a
//! 1×1 convolution and ReLU as the backbone, then a 4×4 stride-4 convolution as a one-anchor
//! Darknet head over an 8×8 grid of a 32×32 input, with classes red, green and blue. Weights are
//! set by hand so that a cell fully covered by one colour scores high for that colour:
//! `objectness = 20·(mean G − (mean R + mean B)/2) − 4` (so only green objects count) and
//! `class c = 10·mean c − 5`, box offsets 0 (the cell centre, the anchor's size).

use image::{Rgb, RgbImage};
use kiln::graph::{ConvAttrs, Dim, Graph, Node, Op, ValueInfo};
use kiln::ops::elementwise::UnaryOp;
use kiln::ops::{Activation, PointwiseActivation};
use kiln::tensor::{DType, HostTensor};
use kiln::vision::{
    ClassNames, DetectionModel, DetectorOptions, GridDecode, GridLayout, HeadKind, NmsOptions,
};

/// The one anchor, in input pixels.
pub const ANCHOR: [f32; 2] = [32.0, 24.0];

fn conv(name: &str, input: &str, output: &str, kernel: usize) -> Node {
    Node {
        name: name.into(),
        op: Op::Conv(ConvAttrs {
            kernel_shape: vec![kernel, kernel],
            strides: vec![kernel, kernel],
            pads: vec![0; 4],
            dilations: vec![1, 1],
            group: 1,
            auto_pad: Default::default(),
            activation: Activation::Identity,
        }),
        inputs: vec![
            Some(input.into()),
            Some(format!("{name}.weight")),
            Some(format!("{name}.bias")),
        ],
        outputs: vec![output.into()],
    }
}

fn head_weights() -> (HostTensor, HostTensor) {
    const PATCH: f32 = 16.0;
    let mut weight = vec![0.0f32; 8 * 3 * 16];
    let mut bias = vec![0.0f32; 8];
    let mut set = |out: usize, channel: usize, value: f32| {
        let start = (out * 3 + channel) * 16;
        weight[start..start + 16].fill(value / PATCH);
    };
    set(4, 1, 20.0);
    set(4, 0, -10.0);
    set(4, 2, -10.0);
    bias[4] = -4.0;
    for class in 0..3 {
        set(5 + class, class, 10.0);
        bias[5 + class] = -5.0;
    }
    (
        HostTensor::from_f32(&[8, 3, 4, 4], weight).unwrap(),
        HostTensor::from_f32(&[8], bias).unwrap(),
    )
}

/// The graph: `images [1, 3, 32, 32]` → `grid [1, 8, 8, 8]`.
pub fn toy_graph() -> Graph {
    let mut graph = Graph {
        name: "toy-yolo".into(),
        inputs: vec![ValueInfo {
            name: "images".into(),
            dtype: Some(DType::F32),
            shape: Some([1, 3, 32, 32].map(Dim::Fixed).to_vec()),
        }],
        outputs: vec![ValueInfo {
            name: "grid".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        ..Graph::default()
    };
    let identity: Vec<f32> = (0..9).map(|i| if i % 4 == 0 { 1.0 } else { 0.0 }).collect();
    graph.initializers.insert(
        "backbone.weight".into(),
        HostTensor::from_f32(&[3, 3, 1, 1], identity).unwrap(),
    );
    graph.initializers.insert(
        "backbone.bias".into(),
        HostTensor::from_f32(&[3], vec![0.0; 3]).unwrap(),
    );
    let (weight, bias) = head_weights();
    graph.initializers.insert("head.weight".into(), weight);
    graph.initializers.insert("head.bias".into(), bias);
    graph.nodes = vec![
        conv("backbone", "images", "features", 1),
        Node {
            name: "relu".into(),
            op: Op::Unary(UnaryOp::Activation(PointwiseActivation::Relu)),
            inputs: vec![Some("features".into())],
            outputs: vec!["activated".into()],
        },
        conv("head", "activated", "grid", 4),
    ];
    graph
}

/// The toy model with its declared head and class names.
pub fn toy_model() -> DetectionModel {
    DetectionModel {
        graph: toy_graph(),
        input_name: "images".into(),
        input_size: [32, 32],
        declared_heads: vec![(
            "grid".into(),
            HeadKind::AnchorGrid {
                anchors: vec![ANCHOR],
                stride: [4.0, 4.0],
                decode: GridDecode::Darknet { scale_x_y: 1.0 },
                layout: GridLayout::ChannelsFirst,
            },
        )],
        names: ClassNames {
            names: vec!["red".into(), "green".into(), "blue".into()],
        },
    }
}

/// The green square of [`test_image`], `[x1, y1, x2, y2]` in its pixels.
pub const GREEN_SQUARE: [f32; 4] = [16.0, 16.0, 48.0, 40.0];

/// A 64×48 black image with a green square and a red bar (which the head ignores: its
/// objectness is negative). Letterboxed into 32×32 it is halved and shifted down 4 pixels.
pub fn test_image() -> RgbImage {
    let mut image = RgbImage::new(64, 48);
    let [x1, y1, x2, y2] = GREEN_SQUARE.map(|v| v as u32);
    for (x, y, pixel) in image.enumerate_pixels_mut() {
        if (x1..x2).contains(&x) && (y1..y2).contains(&y) {
            *pixel = Rgb([0, 255, 0]);
        } else if y < 8 {
            *pixel = Rgb([255, 0, 0]);
        }
    }
    image
}

/// NMS that keeps one box per object of the toy image: every green cell's box (the 32×24 anchor
/// centred within the 16×12 pixel square of the input) overlaps every other by IoU > 0.2.
pub fn toy_options() -> DetectorOptions {
    DetectorOptions {
        nms: NmsOptions {
            iou_threshold: 0.1,
            ..NmsOptions::default()
        },
        ..DetectorOptions::default()
    }
}
