//! Criterion benches for the convolutions on real layer shapes: a ResNet-50 3×3 stage (64 → 64,
//! 56×56), a MobileNetV2 depthwise block (144 channels, 56×56, 3×3) and a YOLO 640×640 stem (3 →
//! 16, 3×3, stride 2), batch 1. The f32 implicit GEMM, f16, int8, the weight-only int8 and int4
//! implicit GEMMs and the packed-weight im2col path (the same two) run the dense layers, int8 on
//! each dot4 path the device has; the depthwise layer runs the direct f32 kernel and, as its
//! baseline in the same run, the implicit GEMM, and int8 on its direct depthwise kernel.
//! Throughput is `2·MACs`, so criterion prints GFLOP/s-style rates. `KILN_BENCH_SCALE` divides the
//! spatial sides (default 4 for lavapipe; use 1 on a GPU); the device comes from `KILN_BACKEND` /
//! `KILN_ADAPTER`.

use std::time::Duration;

use criterion::measurement::WallTime;
use criterion::{
    criterion_group, criterion_main, BenchmarkGroup, BenchmarkId, Criterion, Throughput,
};
use half::f16;
use kiln::bench::time_iterations;
use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::graph::packing::Packing;
use kiln::ops::conv::{
    conv2d_f16, conv2d_f32_with_path, conv2d_im2col, conv2d_q8, conv2d_w4, conv2d_w8, Conv2dParams,
    ConvPath, GpuQ8ConvWeights, QLinearQuant,
};
use kiln::ops::matmul::int4::GpuQ4Weights;
use kiln::ops::matmul::int8::{Dot4Path, GpuQ8Weights};
use kiln::ops::Activation;
use kiln::runtime::gpu::packed::DeviceMatrix;
use kiln::tensor::{GpuTensor, Q4GroupSize, Q4Weights, Q8Scheme, Q8Weights};

/// One benchmarked layer.
struct Layer {
    name: &'static str,
    channels: usize,
    out_channels: usize,
    side: usize,
    params: Conv2dParams,
}

fn scale() -> usize {
    std::env::var("KILN_BENCH_SCALE")
        .ok()
        .and_then(|value| value.trim().parse().ok())
        .filter(|&scale| scale >= 1)
        .unwrap_or(4)
}

fn layers() -> [Layer; 3] {
    let same_3x3 = Conv2dParams {
        pads: [1; 4],
        ..Conv2dParams::default()
    };
    [
        Layer {
            name: "resnet50_3x3_64",
            channels: 64,
            out_channels: 64,
            side: 56,
            params: same_3x3,
        },
        Layer {
            name: "mobilenetv2_dw_144",
            channels: 144,
            out_channels: 144,
            side: 56,
            params: Conv2dParams {
                groups: 144,
                ..same_3x3
            },
        },
        Layer {
            name: "yolo_stem_3_16_s2",
            channels: 3,
            out_channels: 16,
            side: 640,
            params: Conv2dParams {
                strides: [2, 2],
                ..same_3x3
            },
        },
    ]
}

fn bench_layer(c: &mut Criterion, gpu: &Gpu, layer: &Layer, rng: &mut SeededRng) {
    let side = (layer.side / scale()).max(4);
    let x_shape = [1, layer.channels, side, side];
    let w_shape = [
        layer.out_channels,
        layer.channels / layer.params.groups,
        3,
        3,
    ];
    let out = layer.params.output_shape(&x_shape, &w_shape).unwrap();
    let macs = out.iter().product::<usize>() * w_shape[1..].iter().product::<usize>();
    let mut group = c.benchmark_group(format!("conv/{}", layer.name));
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(3))
        .throughput(Throughput::Elements(2 * macs as u64));
    let x = rng.uniform_vec(x_shape.iter().product(), -1.0, 1.0);
    let w = rng.uniform_vec(w_shape.iter().product(), -1.0, 1.0);
    let params = &layer.params;
    let (x32, w32) = (
        GpuTensor::upload(gpu, &x_shape, &x).unwrap(),
        GpuTensor::upload(gpu, &w_shape, &w).unwrap(),
    );
    let depthwise = params.groups == layer.channels;
    let mut paths = vec![("f32 implicit gemm", ConvPath::ImplicitGemm)];
    if depthwise {
        paths.push(("f32 depthwise", ConvPath::Depthwise));
    }
    for (name, path) in paths {
        group.bench_function(BenchmarkId::new(name, side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    let run =
                        conv2d_f32_with_path(gpu, &x32, &w32, None, params, Activation::Relu, path);
                    drop(run.unwrap())
                })
            })
        });
    }
    if !depthwise {
        let to_f16 = |values: &[f32]| values.iter().map(|&v| f16::from_f32(v)).collect::<Vec<_>>();
        let x16 = GpuTensor::upload(gpu, &x_shape, &to_f16(&x)).unwrap();
        let w16 = GpuTensor::upload(gpu, &w_shape, &to_f16(&w)).unwrap();
        group.bench_function(BenchmarkId::new("f16", side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(conv2d_f16(gpu, &x16, &w16, None, params, Activation::Relu).unwrap())
                })
            })
        });
        bench_weight_only(&mut group, gpu, (&x32, &w, w_shape), params, side);
    }
    bench_int8(&mut group, gpu, (&x, x_shape, &w, w_shape), params, side);
    group.finish();
}

/// Int8 QLinearConv of the layer: a depthwise layer on its direct kernel, a dense one on the
/// implicit GEMM with each dot4 path the device has (the unpacked one always), in `group`.
fn bench_int8(
    group: &mut BenchmarkGroup<'_, WallTime>,
    gpu: &Gpu,
    (x, x_shape, w, w_shape): (&[f32], [usize; 4], &[f32], [usize; 4]),
    params: &Conv2dParams,
    side: usize,
) {
    let quantize = |values: &[f32]| {
        values
            .iter()
            .map(|&v| (v * 127.0) as i8)
            .collect::<Vec<_>>()
    };
    let k = w_shape[1..].iter().product();
    let weights = Q8Weights::from_parts(
        w_shape[0],
        k,
        &quantize(w),
        vec![0.01; w_shape[0]],
        vec![0; w_shape[0]],
    )
    .unwrap();
    let w8 = GpuQ8ConvWeights::upload(gpu, &weights, w_shape).unwrap();
    let x8 = GpuTensor::upload(gpu, &x_shape, &quantize(x)).unwrap();
    let quant = QLinearQuant {
        input_scale: 0.01,
        input_zero_point: 0,
        output_scale: 0.05,
        output_zero_point: 0,
    };
    let mut paths = vec![("int8 unpacked", Dot4Path::Unpacked)];
    if params.groups == x_shape[1] {
        paths = vec![("int8 depthwise", Dot4Path::Unpacked)];
    } else if gpu.capabilities().packed_dot4 {
        paths.push(("int8 dot4 builtin", Dot4Path::Builtin));
    }
    for (name, path) in paths {
        group.bench_function(BenchmarkId::new(name, side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    drop(conv2d_q8(gpu, &x8, &w8, None, &quant, params, path).unwrap())
                })
            })
        });
    }
}

/// The dense layer's weight kept quantized: weight-only int8 and int4 on the implicit GEMM's
/// loaders, then each through the im2col path around its matmul kernel, in `group`.
fn bench_weight_only(
    group: &mut BenchmarkGroup<'_, WallTime>,
    gpu: &Gpu,
    (x32, w, w_shape): (&GpuTensor, &[f32], [usize; 4]),
    params: &Conv2dParams,
    side: usize,
) {
    let k = w_shape[1..].iter().product();
    let int8 = Q8Weights::quantize(w, w_shape[0], k, Q8Scheme::Symmetric).unwrap();
    let int8 = GpuQ8Weights::upload(gpu, &int8).unwrap();
    group.bench_function(BenchmarkId::new("w8a32 implicit gemm", side), |b| {
        b.iter_custom(|iters| {
            timed(gpu, iters, || {
                let run = conv2d_w8(gpu, x32, &int8, &w_shape, None, params, Activation::Relu);
                drop(run.unwrap())
            })
        })
    });
    let int4 = Q4Weights::quantize(w, w_shape[0], k, Q4GroupSize::G32, true).unwrap();
    let int4 = GpuQ4Weights::upload(gpu, &int4).unwrap();
    group.bench_function(BenchmarkId::new("w4 implicit gemm", side), |b| {
        b.iter_custom(|iters| {
            timed(gpu, iters, || {
                let run = conv2d_w4(gpu, x32, &int4, &w_shape, None, params, Activation::Relu);
                drop(run.unwrap())
            })
        })
    });
    for packing in PACKED {
        let matrix = packing.pack(w, w_shape[0], k).unwrap();
        let matrix = DeviceMatrix::upload(gpu, &matrix).unwrap();
        let product = |patches: &GpuTensor, bias: Option<&GpuTensor>, act: Activation| {
            matrix.product(gpu, patches, bias, act)
        };
        let name = format!("packed {} im2col", packing_name(&packing));
        group.bench_function(BenchmarkId::new(name, side), |b| {
            b.iter_custom(|iters| {
                timed(gpu, iters, || {
                    let run =
                        conv2d_im2col(gpu, x32, &w_shape, None, params, Activation::Relu, &product);
                    drop(run.unwrap())
                })
            })
        });
    }
}

/// The packed weights the dense layers also run with (weight-only int8 and int4, through the
/// im2col path), against the f32 implicit GEMM of the same run.
const PACKED: [Packing; 2] = [
    Packing::Q8 {
        per_channel: true,
        scheme: Q8Scheme::Symmetric,
        unsigned: false,
    },
    Packing::Q4 {
        group_size: Q4GroupSize::G32,
        symmetric: true,
    },
];

fn packing_name(packing: &Packing) -> &'static str {
    match packing {
        Packing::Q8 { .. } => "w8a32",
        _ => "q4",
    }
}

fn benches(c: &mut Criterion) {
    let gpu = Gpu::from_env().expect("a GPU adapter (or lavapipe) for benchmarks");
    eprintln!(
        "benchmarking on {} ({:?}), spatial sides divided by {}",
        gpu.info().name,
        gpu.info().backend,
        scale()
    );
    let mut rng = SeededRng::new(11);
    for layer in layers() {
        bench_layer(c, &gpu, &layer, &mut rng);
    }
}

/// One criterion sample: `iters` runs synchronized once.
fn timed(gpu: &Gpu, iters: u64, run: impl FnMut()) -> Duration {
    time_iterations(gpu, iters, run).expect("device works")
}

criterion_group!(conv_benches, benches);
criterion_main!(conv_benches);
