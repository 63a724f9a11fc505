//! A plain-loop transcription of darknet's forward pass (f64) for the layers the importer reads,
//! written from darknet's C (`forward_convolutional_layer`, `forward_maxpool_layer`,
//! `upsample_cpu`, `forward_route_layer`, `shortcut_cpu`, `activate`), with its own small cfg
//! reader, so the importer is checked against darknet's definitions rather than against itself.
//! Batch norm uses darknet's GPU form `(x - mean) / sqrt(var + 1e-5)`.

use kiln::check::SeededRng;
use std::collections::HashMap;

/// One layer with its weights.
#[derive(Debug)]
pub enum DarknetLayer {
    /// `[convolutional]`; `batch_norm` holds scales, rolling means, rolling variances.
    Conv {
        filters: usize,
        size: usize,
        stride: usize,
        pad: usize,
        groups: usize,
        activation: String,
        biases: Vec<f32>,
        batch_norm: Option<[Vec<f32>; 3]>,
        weights: Vec<f32>,
    },
    /// `[maxpool]`, `padding` in total.
    MaxPool {
        size: usize,
        stride: usize,
        padding: usize,
    },
    /// `[upsample]`.
    Upsample { stride: usize },
    /// `[route]`.
    Route {
        layers: Vec<usize>,
        groups: usize,
        group_id: usize,
    },
    /// `[shortcut]`, `from` absolute.
    Shortcut { from: usize, activation: String },
    /// `[yolo]`: its input is a network output.
    Yolo,
}

/// A `[C, H, W]` feature map.
#[derive(Clone, Debug)]
struct Map {
    shape: [usize; 3],
    values: Vec<f64>,
}

impl Map {
    fn zeros(shape: [usize; 3]) -> Map {
        Map {
            shape,
            values: vec![0.0; shape.iter().product()],
        }
    }

    fn at(&self, c: usize, y: i64, x: i64) -> Option<f64> {
        let [_, height, width] = self.shape;
        let inside = (0..height as i64).contains(&y) && (0..width as i64).contains(&x);
        inside.then(|| self.values[(c * height + y as usize) * width + x as usize])
    }
}

/// The network: input `[C, H, W]` and layers with weights.
pub struct ReferenceNet {
    input: [usize; 3],
    layers: Vec<DarknetLayer>,
}

fn sections(cfg: &str) -> Vec<(String, HashMap<String, String>)> {
    let mut sections: Vec<(String, HashMap<String, String>)> = Vec::new();
    for line in cfg.lines() {
        let line: String = line.chars().filter(|c| !c.is_whitespace()).collect();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        if let Some(kind) = line.strip_prefix('[') {
            sections.push((kind.trim_end_matches(']').to_string(), HashMap::new()));
        } else if let Some((key, value)) = line.split_once('=') {
            sections
                .last_mut()
                .unwrap()
                .1
                .insert(key.into(), value.into());
        }
    }
    sections
}

fn layer_index(value: &str, current: usize) -> usize {
    let index: i64 = value.parse().unwrap();
    if index < 0 {
        (current as i64 + index) as usize
    } else {
        index as usize
    }
}

impl ReferenceNet {
    /// Reads `cfg` and draws every conv's weights from `rng`.
    pub fn from_cfg(cfg: &str, rng: &mut SeededRng) -> ReferenceNet {
        let sections = sections(cfg);
        let int = |options: &HashMap<String, String>, key: &str, default: usize| {
            options.get(key).map_or(default, |v| v.parse().unwrap())
        };
        let net = &sections[0].1;
        let input = [
            int(net, "channels", 0),
            int(net, "height", 0),
            int(net, "width", 0),
        ];
        let mut shapes: Vec<[usize; 3]> = Vec::new();
        let mut layers = Vec::new();
        for (index, (kind, options)) in sections[1..].iter().enumerate() {
            let previous = shapes.last().copied().unwrap_or(input);
            let text =
                |key: &str, default: &str| options.get(key).cloned().unwrap_or(default.into());
            let (layer, shape) = match kind.as_str() {
                "convolutional" => {
                    let (filters, size, stride) = (
                        int(options, "filters", 1),
                        int(options, "size", 1),
                        int(options, "stride", 1),
                    );
                    let groups = int(options, "groups", 1);
                    let pad = if int(options, "pad", 0) == 1 {
                        size / 2
                    } else {
                        0
                    };
                    let fan_in = previous[0] / groups * size * size;
                    let bound = (3.0 / fan_in as f32).sqrt();
                    let batch_norm = (int(options, "batch_normalize", 0) == 1).then(|| {
                        [
                            rng.uniform_vec(filters, 0.5, 1.5),
                            rng.uniform_vec(filters, -0.5, 0.5),
                            rng.uniform_vec(filters, 0.5, 2.0),
                        ]
                    });
                    let out = |extent: usize| (extent + 2 * pad - size) / stride + 1;
                    let layer = DarknetLayer::Conv {
                        filters,
                        size,
                        stride,
                        pad,
                        groups,
                        activation: text("activation", "logistic"),
                        biases: rng.uniform_vec(filters, -0.5, 0.5),
                        batch_norm,
                        weights: rng.uniform_vec(filters * fan_in, -bound, bound),
                    };
                    (layer, [filters, out(previous[1]), out(previous[2])])
                }
                "maxpool" => {
                    let stride = int(options, "stride", 1);
                    let size = int(options, "size", stride);
                    let padding = int(options, "padding", size - 1);
                    let out = |extent: usize| (extent + padding - size) / stride + 1;
                    (
                        DarknetLayer::MaxPool {
                            size,
                            stride,
                            padding,
                        },
                        [previous[0], out(previous[1]), out(previous[2])],
                    )
                }
                "upsample" => {
                    let stride = int(options, "stride", 2);
                    (
                        DarknetLayer::Upsample { stride },
                        [previous[0], previous[1] * stride, previous[2] * stride],
                    )
                }
                "route" => {
                    let layers: Vec<usize> = options["layers"]
                        .split(',')
                        .map(|v| layer_index(v, index))
                        .collect();
                    let groups = int(options, "groups", 1);
                    let channels = layers.iter().map(|&l| shapes[l][0] / groups).sum();
                    let [_, height, width] = shapes[layers[0]];
                    let layer = DarknetLayer::Route {
                        layers,
                        groups,
                        group_id: int(options, "group_id", 0),
                    };
                    (layer, [channels, height, width])
                }
                "shortcut" => {
                    let from = layer_index(&options["from"], index);
                    (
                        DarknetLayer::Shortcut {
                            from,
                            activation: text("activation", "linear"),
                        },
                        previous,
                    )
                }
                "yolo" => (DarknetLayer::Yolo, previous),
                other => panic!("the reference does not read [{other}]"),
            };
            layers.push(layer);
            shapes.push(shape);
        }
        ReferenceNet { input, layers }
    }

    /// The `.weights` file: version 0.2.0 header with a 64-bit `seen`, then each conv's biases,
    /// batch-norm scales, means and variances, and weights.
    pub fn weights_file(&self) -> Vec<u8> {
        let mut bytes: Vec<u8> = [0i32, 2, 0].iter().flat_map(|w| w.to_le_bytes()).collect();
        bytes.extend(32_013_312u64.to_le_bytes());
        for layer in &self.layers {
            if let DarknetLayer::Conv {
                biases,
                batch_norm,
                weights,
                ..
            } = layer
            {
                let groups = std::iter::once(biases)
                    .chain(batch_norm.iter().flatten())
                    .chain([weights]);
                bytes.extend(groups.flatten().flat_map(|v| v.to_le_bytes()));
            }
        }
        bytes
    }

    /// The input of every `[yolo]` layer, as `([C, H, W], values)`, for `input` (`[C, H, W]`).
    pub fn run(&self, input: &[f32]) -> Vec<([usize; 3], Vec<f64>)> {
        let mut outputs: Vec<Map> = Vec::new();
        let mut heads = Vec::new();
        let network_input = Map {
            shape: self.input,
            values: input.iter().map(|&v| f64::from(v)).collect(),
        };
        for layer in &self.layers {
            let previous = outputs.last().unwrap_or(&network_input);
            let output = match layer {
                DarknetLayer::Conv { .. } => convolutional(layer, previous),
                DarknetLayer::MaxPool {
                    size,
                    stride,
                    padding,
                } => maxpool(previous, *size, *stride, *padding),
                DarknetLayer::Upsample { stride } => upsample(previous, *stride),
                DarknetLayer::Route {
                    layers,
                    groups,
                    group_id,
                } => route(&outputs, layers, *groups, *group_id),
                DarknetLayer::Shortcut { from, activation } => {
                    let values = previous
                        .values
                        .iter()
                        .zip(&outputs[*from].values)
                        .map(|(a, b)| activate(activation, a + b))
                        .collect();
                    Map {
                        shape: previous.shape,
                        values,
                    }
                }
                DarknetLayer::Yolo => {
                    heads.push((previous.shape, previous.values.clone()));
                    previous.clone()
                }
            };
            outputs.push(output);
        }
        heads
    }
}

fn activate(activation: &str, x: f64) -> f64 {
    let sigmoid = |x: f64| 1.0 / (1.0 + (-x).exp());
    match activation {
        "linear" => x,
        "leaky" => {
            if x > 0.0 {
                x
            } else {
                0.1 * x
            }
        }
        "logistic" => sigmoid(x),
        "relu6" => x.clamp(0.0, 6.0),
        "swish" => x * sigmoid(x),
        "mish" => x * x.exp().ln_1p().tanh(),
        other => panic!("the reference lacks activation {other}"),
    }
}

fn convolutional(layer: &DarknetLayer, input: &Map) -> Map {
    let DarknetLayer::Conv {
        filters,
        size,
        stride,
        pad,
        groups,
        activation,
        biases,
        batch_norm,
        weights,
    } = layer
    else {
        unreachable!()
    };
    let [channels, height, width] = input.shape;
    let out = |extent: usize| (extent + 2 * pad - size) / stride + 1;
    let mut output = Map::zeros([*filters, out(height), out(width)]);
    let (group_channels, group_filters) = (channels / groups, filters / groups);
    let [_, out_height, out_width] = output.shape;
    for f in 0..*filters {
        let group = f / group_filters;
        for (y, x) in (0..out_height).flat_map(|y| (0..out_width).map(move |x| (y, x))) {
            let mut sum = 0.0;
            for c in 0..group_channels {
                for (ky, kx) in (0..*size).flat_map(|ky| (0..*size).map(move |kx| (ky, kx))) {
                    let source_y = (y * stride + ky) as i64 - *pad as i64;
                    let source_x = (x * stride + kx) as i64 - *pad as i64;
                    let value = input
                        .at(group * group_channels + c, source_y, source_x)
                        .unwrap_or(0.0);
                    sum += f64::from(weights[((f * group_channels + c) * size + ky) * size + kx])
                        * value;
                }
            }
            let normalized = match batch_norm {
                Some([scales, means, variances]) => {
                    let deviation = (f64::from(variances[f]) + 1e-5).sqrt();
                    (sum - f64::from(means[f])) / deviation * f64::from(scales[f])
                }
                None => sum,
            };
            output.values[(f * out_height + y) * out_width + x] =
                activate(activation, normalized + f64::from(biases[f]));
        }
    }
    output
}

fn maxpool(input: &Map, size: usize, stride: usize, padding: usize) -> Map {
    let [channels, height, width] = input.shape;
    let out = |extent: usize| (extent + padding - size) / stride + 1;
    let mut output = Map::zeros([channels, out(height), out(width)]);
    let offset = -((padding / 2) as i64);
    let [_, out_height, out_width] = output.shape;
    for c in 0..channels {
        for (y, x) in (0..out_height).flat_map(|y| (0..out_width).map(move |x| (y, x))) {
            let mut max = f64::from(-f32::MAX);
            for (n, m) in (0..size).flat_map(|n| (0..size).map(move |m| (n, m))) {
                let value = input.at(
                    c,
                    offset + (y * stride + n) as i64,
                    offset + (x * stride + m) as i64,
                );
                max = max.max(value.unwrap_or(f64::from(-f32::MAX)));
            }
            output.values[(c * out_height + y) * out_width + x] = max;
        }
    }
    output
}

fn upsample(input: &Map, stride: usize) -> Map {
    let [channels, height, width] = input.shape;
    let mut output = Map::zeros([channels, height * stride, width * stride]);
    for c in 0..channels {
        for (y, x) in (0..height * stride).flat_map(|y| (0..width * stride).map(move |x| (y, x))) {
            output.values[(c * height * stride + y) * width * stride + x] =
                input.values[(c * height + y / stride) * width + x / stride];
        }
    }
    output
}

fn route(outputs: &[Map], layers: &[usize], groups: usize, group_id: usize) -> Map {
    let [_, height, width] = outputs[layers[0]].shape;
    let mut values = Vec::new();
    for &layer in layers {
        let part = outputs[layer].values.len() / groups;
        values.extend_from_slice(&outputs[layer].values[group_id * part..(group_id + 1) * part]);
    }
    Map {
        shape: [values.len() / (height * width), height, width],
        values,
    }
}
