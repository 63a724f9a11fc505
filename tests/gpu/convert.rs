//! Cast, Not, the comparisons and Gather on the GPU against their CPU references. Every kernel
//! here is exact (conversions follow the reference's rules bit for bit, comparisons give 0 or 1),
//! so every tolerance is 0. Sizes are odd and include 5 and 7 so u8 and f16 outputs end inside a
//! u32 word, and 261 spills past one 256-thread workgroup.

use std::collections::BTreeMap;

use half::f16;
use kiln::check::{compare, compare_exact, SeededRng};
use kiln::device::Gpu;
use kiln::graph::{CompareOp, Graph, Node, Op, ValueInfo};
use kiln::ops::convert::{
    cast, compare as gpu_compare, not, reference_cast, reference_compare, reference_not,
};
use kiln::ops::indexing::{gather, reference_gather, GatherIndices};
use kiln::runtime::gpu::{download, upload};
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, GpuTensor, HostTensor, TensorData};

use crate::common::gpu;

const SIZES: [usize; 4] = [1, 5, 7, 261];
const DTYPES: [DType; 6] = [
    DType::F32,
    DType::F16,
    DType::I32,
    DType::I8,
    DType::U8,
    DType::Bool,
];

/// Asserts `got` equals `want` exactly (NaN matched by NaN), printing the worst element.
fn assert_same(label: &str, got: &HostTensor, want: &HostTensor) {
    assert_eq!(got.dtype(), want.dtype(), "{label}: dtype");
    assert_eq!(got.shape(), want.shape(), "{label}: shape");
    let (got, want, dtype) = (got.to_f64_vec(), want.to_f64_vec(), want.dtype());
    if matches!(dtype, DType::F32 | DType::F16) {
        // f16 and f32 values are exact in f32.
        let narrow = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<_>>();
        compare(label, &narrow(&got), &narrow(&want), &vec![0.0; want.len()]).assert_passed();
    } else {
        // i32, i8, u8 and bool values are exact in i32.
        let narrow = |v: &[f64]| v.iter().map(|&x| x as i32).collect::<Vec<_>>();
        compare_exact(label, &narrow(&got), &narrow(&want)).assert_passed();
    }
}

/// Runs a GPU op on `inputs` and reads the result back as `dtype`.
fn on_gpu(
    gpu: &Gpu,
    inputs: &[&HostTensor],
    dtype: DType,
    op: impl Fn(&[GpuTensor]) -> kiln::Result<GpuTensor>,
) -> HostTensor {
    let uploaded: Vec<GpuTensor> = inputs.iter().map(|t| upload(gpu, t).unwrap()).collect();
    let output = op(&uploaded).unwrap();
    download(gpu, &output, dtype).unwrap()
}

/// `count` values of `dtype`: the edge cases of every conversion first, then seeded ones.
fn sample(rng: &mut SeededRng, dtype: DType, count: usize) -> HostTensor {
    let floats = [
        f32::NAN,
        f32::INFINITY,
        f32::NEG_INFINITY,
        -0.0,
        0.0,
        0.5,
        -0.5,
        1.5,
        2.5,
        -2.9,
        127.5,
        128.0,
        -129.0,
        255.9,
        256.0,
        -1.0,
        3e9,
        -3e9,
        65504.0,
        65519.0,
        65520.0,
        1e-6,
        3e-8,
        1e-8,
        2.980_232_2e-8,
        1.000_488_3,
        1.001_464_8,
        6.1e-5,
    ];
    let ints = [
        i32::MIN,
        i32::MAX,
        -129,
        -128,
        127,
        128,
        255,
        256,
        -1,
        0,
        1,
        16_777_217,
        65519,
        65520,
    ];
    let float = |i: usize, rng: &mut SeededRng| {
        floats
            .get(i)
            .copied()
            .unwrap_or_else(|| rng.uniform(-300.0, 300.0))
    };
    let int = |i: usize, rng: &mut SeededRng| {
        ints.get(i)
            .copied()
            .unwrap_or_else(|| rng.int_in(-1000, 1000))
    };
    let data = match dtype {
        DType::F32 => TensorData::F32((0..count).map(|i| float(i, rng)).collect()),
        DType::F16 => TensorData::F16((0..count).map(|i| f16::from_f32(float(i, rng))).collect()),
        DType::I32 => TensorData::I32((0..count).map(|i| int(i, rng)).collect()),
        DType::I8 => TensorData::I8((0..count).map(|i| int(i, rng) as i8).collect()),
        DType::U8 => TensorData::U8((0..count).map(|i| int(i, rng) as u8).collect()),
        DType::Bool => TensorData::Bool((0..count).map(|_| rng.next_u64() % 2 == 1).collect()),
        DType::I64 => TensorData::I64((0..count).map(|i| i64::from(int(i, rng))).collect()),
    };
    HostTensor::new(&[count], data).unwrap()
}

#[test]
fn cast_matches_reference_for_every_dtype_pair() {
    // Rules (the CPU reference, numpy's astype): float → int truncates toward zero and saturates
    // (300.0 → i8 127, -0.5 → u8 0, 3e9 → i32 MAX), NaN → 0; int → narrower int wraps (256 → u8
    // 0); f32 → f16 rounds to nearest even, 65520 and above → inf; non-zero (NaN too) → true.
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(11);
    for from in DTYPES {
        for to in DTYPES {
            for count in SIZES {
                let x = sample(&mut rng, from, count);
                let want = reference_cast(&x, to).unwrap();
                let got = on_gpu(gpu, &[&x], to, |t| cast(gpu, &t[0], to));
                assert_same(&format!("Cast {from} → {to}, {count}"), &got, &want);
            }
        }
    }
}

#[test]
fn cast_and_gather_reject_i64() {
    let Some(gpu) = gpu() else { return };
    let x = GpuTensor::upload(gpu, &[3], &[1.0f32; 3]).unwrap();
    assert!(matches!(
        cast(gpu, &x, DType::I64),
        Err(kiln::Error::Unsupported { .. })
    ));
    let wide = GpuTensor::upload(gpu, &[3], &[1i64; 3]).unwrap();
    assert!(matches!(
        cast(gpu, &wide, DType::F32),
        Err(kiln::Error::Unsupported { .. })
    ));
    let indices = HostTensor::from_i64(&[1], vec![0]).unwrap();
    let gathered = gather(gpu, &wide, GatherIndices::Constant(&indices), 0, "");
    assert!(matches!(gathered, Err(kiln::Error::Unsupported { .. })));
}

#[test]
fn not_packs_word_tails() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(12);
    for count in [1, 5, 7, 8, 261] {
        let x = sample(&mut rng, DType::Bool, count);
        let got = on_gpu(gpu, &[&x], DType::Bool, |t| not(gpu, &t[0]));
        assert_same(&format!("Not {count}"), &got, &reference_not(&x).unwrap());
    }
}

const COMPARE_OPS: [CompareOp; 5] = [
    CompareOp::Equal,
    CompareOp::Less,
    CompareOp::LessOrEqual,
    CompareOp::Greater,
    CompareOp::GreaterOrEqual,
];

/// A tensor of `shape` whose values come from a few repeated ones, so equal pairs occur.
fn compare_operand(rng: &mut SeededRng, dtype: DType, shape: &[usize]) -> HostTensor {
    let count: usize = shape.iter().product();
    let floats = [f32::NAN, -0.0, 0.0, -1.5, 2.0, f32::INFINITY, -3.0];
    let data = match dtype {
        DType::F32 => TensorData::F32(
            (0..count)
                .map(|_| floats[rng.int_in(0, 6) as usize])
                .collect(),
        ),
        _ => TensorData::I32((0..count).map(|_| rng.int_in(-3, 3)).collect()),
    };
    HostTensor::new(shape, data).unwrap()
}

#[test]
fn compare_broadcasts_and_nan_compares_false() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(13);
    let shapes: [(&[usize], &[usize]); 5] = [
        (&[7], &[7]),
        (&[3, 5, 7], &[5, 1]),
        (&[2, 1, 5], &[1, 3, 1]),
        (&[], &[5]),
        (&[261], &[1]),
    ];
    for dtype in [DType::F32, DType::I32] {
        for (a_shape, b_shape) in shapes {
            let a = compare_operand(&mut rng, dtype, a_shape);
            let b = compare_operand(&mut rng, dtype, b_shape);
            for op in COMPARE_OPS {
                let want = reference_compare(op, &a, &b).unwrap();
                let got = on_gpu(gpu, &[&a, &b], DType::Bool, |t| {
                    gpu_compare(gpu, op, &t[0], &t[1])
                });
                assert_same(
                    &format!("{op:?} {dtype} {a_shape:?} {b_shape:?}"),
                    &got,
                    &want,
                );
            }
        }
    }
    let nan = HostTensor::from_f32(&[1], vec![f32::NAN]).unwrap();
    let equal = on_gpu(gpu, &[&nan, &nan], DType::Bool, |t| {
        gpu_compare(gpu, CompareOp::Equal, &t[0], &t[1])
    });
    assert_eq!(equal.data(), &TensorData::Bool(vec![false]));
}

#[test]
fn gather_matches_reference_for_constant_and_device_indices() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(14);
    let indices = HostTensor::from_i64(&[2, 3], vec![0, -1, 2, -3, 1, 1]).unwrap();
    let narrow: Vec<i32> = [0, -1, 2, -3, 1, 1].to_vec();
    for dtype in [
        DType::F32,
        DType::F16,
        DType::I32,
        DType::I8,
        DType::U8,
        DType::Bool,
    ] {
        let flat = sample(&mut rng, dtype, 3 * 5 * 7);
        let data = HostTensor::new(&[3, 5, 7], flat.into_data()).unwrap();
        for axis in [0, 1, -1] {
            let want = reference_gather(&data, &indices, axis).unwrap();
            let label = format!("Gather {dtype} axis {axis}");
            let got = on_gpu(gpu, &[&data], dtype, |t| {
                gather(gpu, &t[0], GatherIndices::Constant(&indices), axis, "")
            });
            assert_same(&format!("{label}, constant i64"), &got, &want);
            let device = GpuTensor::upload(gpu, &[2, 3], &narrow).unwrap();
            let got = on_gpu(gpu, &[&data], dtype, |t| {
                gather(gpu, &t[0], GatherIndices::Device(&device), axis, "")
            });
            assert_same(&format!("{label}, device i32"), &got, &want);
        }
    }
}

#[test]
fn gather_out_of_range_is_the_references_error_on_both_index_paths() {
    let Some(gpu) = gpu() else { return };
    let values = [10i32, 20, 30, 40, 50];
    let data = GpuTensor::upload(gpu, &[5], &values).unwrap();
    let host_data = HostTensor::new(&[5], TensorData::I32(values.to_vec())).unwrap();
    let outside = HostTensor::from_i64(&[1], vec![5]).unwrap();
    let checked = gather(gpu, &data, GatherIndices::Constant(&outside), 0, "node 'g'");
    let message = checked.err().unwrap().to_string();
    assert!(
        message.contains("node 'g'") && message.contains("index 5"),
        "{message}"
    );
    // In range, negative (ONNX: plus the extent) and the edges of both sides.
    let good = [4i32, -5, -1, 0, 2];
    let device = GpuTensor::upload(gpu, &[5], &good).unwrap();
    let got = gather(gpu, &data, GatherIndices::Device(&device), 0, "").unwrap();
    assert_eq!(got.read::<i32>(gpu).unwrap(), vec![50, 10, 50, 10, 30]);
    // Out of range above, below, and both: the first bad index is reported, as on the CPU.
    for bad in [
        vec![0i32, 1, 5, -7],
        vec![-6, 0],
        vec![1, 1000, -1],
        vec![i32::MIN],
    ] {
        let host_indices = HostTensor::new(&[bad.len()], TensorData::I32(bad.clone())).unwrap();
        let want = reference_gather(&host_data, &host_indices, 0)
            .unwrap_err()
            .to_string();
        let device = GpuTensor::upload(gpu, &[bad.len()], &bad).unwrap();
        let got = gather(gpu, &data, GatherIndices::Device(&device), 0, "")
            .and_then(|tensor| tensor.read::<i32>(gpu))
            .expect_err("an out-of-range index must fail at readback")
            .to_string();
        assert_eq!(got, want, "indices {bad:?}");
    }
    // The failed check is consumed: the next readback succeeds.
    let got = gather(
        gpu,
        &data,
        GatherIndices::Device(&device_of(gpu, &good)),
        0,
        "",
    )
    .unwrap();
    assert_eq!(got.read::<i32>(gpu).unwrap(), vec![50, 10, 50, 10, 30]);
}

fn device_of(gpu: &Gpu, values: &[i32]) -> GpuTensor {
    GpuTensor::upload(gpu, &[values.len()], values).unwrap()
}

/// x → Gather(rows -1, 0) → Cast(i32) → Less(threshold) → Not → Where(·, x rows, zero).
fn cast_less_where_graph() -> Graph {
    let node = |name: &str, op: Op, inputs: &[&str]| Node {
        name: name.into(),
        op,
        inputs: inputs.iter().map(|&i| Some(i.to_string())).collect(),
        outputs: vec![name.to_string()],
    };
    let value = |name: &str| ValueInfo {
        name: name.into(),
        dtype: None,
        shape: None,
    };
    let mut initializers = BTreeMap::new();
    initializers.insert(
        "rows".into(),
        HostTensor::from_i64(&[2], vec![-1, 0]).unwrap(),
    );
    initializers.insert(
        "threshold".into(),
        HostTensor::new(&[5], TensorData::I32(vec![-2, -1, 0, 1, 2])).unwrap(),
    );
    initializers.insert("zero".into(), HostTensor::from_f32(&[], vec![0.0]).unwrap());
    Graph {
        name: "cast_less_where".into(),
        inputs: vec![ValueInfo {
            name: "x".into(),
            dtype: Some(DType::F32),
            shape: None,
        }],
        outputs: vec![value("picked")],
        initializers,
        packed_weights: Default::default(),
        nodes: vec![
            node("gathered", Op::Gather { axis: 0 }, &["x", "rows"]),
            node("truncated", Op::Cast { to: DType::I32 }, &["gathered"]),
            node(
                "below",
                Op::Compare(CompareOp::Less),
                &["truncated", "threshold"],
            ),
            node("at_least", Op::Not, &["below"]),
            node("picked", Op::Where, &["at_least", "gathered", "zero"]),
        ],
        metadata: BTreeMap::new(),
    }
}

#[test]
fn plan_cast_less_where_matches_cpu() {
    let Some(gpu) = gpu() else { return };
    let graph = cast_less_where_graph();
    let mut rng = SeededRng::new(15);
    let x = HostTensor::from_f32(&[3, 5], rng.uniform_vec(15, -3.0, 3.0)).unwrap();
    let shapes = [("x".to_string(), vec![3, 5])];
    let inputs = [("x".to_string(), x)];
    let got = Plan::new(&graph, &shapes, Backend::Gpu(gpu))
        .unwrap()
        .run(&inputs)
        .unwrap();
    let want = Plan::new(&graph, &shapes, Backend::Cpu)
        .unwrap()
        .run(&inputs)
        .unwrap();
    assert_eq!(got[0].0, want[0].0);
    assert_same("Plan Cast→Less→Where", &got[0].1, &want[0].1);
}
