//! Tensors larger than one storage binding, on a device whose binding limit is lowered to 64 KiB
//! so that small shapes (none a multiple of the 64-wide tiles) take the split paths: MatMul and
//! Gemm weights bound in parts against the f64 reference and the CPU backend, and every other
//! tensor that large an `Error::TensorTooLarge` naming the node and the tensor.

use std::sync::OnceLock;

use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::graph::Op;
use kiln::ops::elementwise::{activation, BinaryOp};
use kiln::ops::gemm::{gemm, reference_gemm, GemmOptions};
use kiln::ops::matmul::chunked::binding_parts;
use kiln::ops::matmul::f32::F32LoadPath;
use kiln::ops::Activation;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, GpuTensor};
use kiln::Error;

use crate::common::{gpu, random_values, Case};
use crate::matmul_f32::check_case_on;
use crate::runtime::builder::{random_input, Builder};
use crate::runtime::UNIT_ROUNDOFF;

/// The lowered binding limit: a 300 KB weight takes five bindings.
const SMALL_BINDING_BYTES: u64 = 64 * 1024;

/// A second device like [`gpu`], with storage bindings limited to [`SMALL_BINDING_BYTES`].
fn small_binding_gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    gpu()?;
    GPU.get_or_init(|| {
        let gpu = Gpu::from_env().expect("the default device opened once already");
        Some(gpu.with_max_binding_bytes(SMALL_BINDING_BYTES))
    })
    .as_ref()
}

/// `case` on the small-binding device against the f64 reference; returns B's binding count.
fn check_split_product(case: &Case, activation: Activation, path: F32LoadPath) -> usize {
    let gpu = small_binding_gpu().expect("checked by caller");
    let seed = (case.m * 1000 + case.n) as u64;
    check_case_on(gpu, case, activation, true, path, seed);
    binding_parts(gpu, &case.b_shape(), DType::F32).unwrap()
}

#[test]
fn weights_beyond_one_binding_are_split_and_match_the_reference() {
    if small_binding_gpu().is_none() {
        return;
    }
    // B [N, K] = [300, 250] f32 is 300 000 bytes: rows of 1000 bytes, at most 65 per 64 KiB
    // binding (64 where offsets must be multiples of 256 bytes: 32 rows), so five parts either
    // way. The same holds for B [K, N] = [300, 250] below.
    let transposed = Case {
        b_transposed: true,
        ..Case::new(1, 37, 300, 250)
    };
    let gemv = Case {
        b_transposed: true,
        ..Case::new(1, 1, 300, 250)
    };
    // B [K, N] = [300, 250]: the reduction is split, partial products summed.
    let reduction = Case::new(2, 20, 250, 300);
    for (case, activation) in [
        (transposed, Activation::Relu),
        (gemv, Activation::Identity),
        (reduction, Activation::Relu),
    ] {
        for path in [F32LoadPath::Auto, F32LoadPath::Scalar] {
            let parts = check_split_product(&case, activation, path);
            assert_eq!(parts, 5, "{case:?}");
        }
    }
}

#[test]
fn the_general_gemm_splits_its_weight_too() {
    let Some(gpu) = small_binding_gpu() else {
        return;
    };
    // alpha, beta, a transposed A and a full C take the Gemm kernel's path, not the matmul's.
    let (m, n, k) = (37, 300, 250);
    for (trans_b, c_shape) in [(true, vec![m, n]), (false, vec![1, n])] {
        let options = GemmOptions {
            alpha: 0.5,
            beta: -2.0,
            trans_a: true,
            trans_b,
        };
        let mut rng = SeededRng::new(7);
        let a = random_values(&mut rng, m * k);
        let b = random_values(&mut rng, n * k);
        let c = random_values(&mut rng, c_shape.iter().product());
        let b_shape = if trans_b { [n, k] } else { [k, n] };
        let a_gpu = GpuTensor::upload(gpu, &[k, m], &a).unwrap();
        let b_gpu = GpuTensor::upload(gpu, &b_shape, &b).unwrap();
        let c_gpu = GpuTensor::upload(gpu, &c_shape, &c).unwrap();
        let y = gemm(gpu, &a_gpu, &b_gpu, Some(&c_gpu), &options).unwrap();
        let c_arg = Some((&c[..], &c_shape[..]));
        let reference = reference_gemm(&a, &[k, m], &b, &b_shape, c_arg, &options).unwrap();
        compare(
            &format!("split gemm trans_b={trans_b} C {c_shape:?}"),
            &y.read::<f32>(gpu).unwrap(),
            &reference.values(),
            &reference.tolerances(),
        )
        .assert_passed();
        assert_eq!(binding_parts(gpu, &b_shape, DType::F32).unwrap(), 5);
    }
}

#[test]
fn the_binding_limit_comes_from_the_adapter() {
    let Some(gpu) = gpu() else { return };
    let adapter = gpu
        .limits()
        .max_storage_buffer_binding_size
        .min(gpu.limits().max_buffer_size);
    if std::env::var_os("KILN_MAX_BINDING_BYTES").is_none() {
        assert_eq!(gpu.max_binding_bytes(), adapter);
    }
    let small = small_binding_gpu().unwrap();
    assert_eq!(small.max_binding_bytes(), SMALL_BINDING_BYTES.min(adapter));
}

#[test]
fn a_gemm_weight_beyond_one_binding_runs_in_a_plan() {
    let Some(gpu) = small_binding_gpu() else {
        return;
    };
    let mut builder = Builder::new(12);
    builder
        .input("x", DType::F32, &[37, 250])
        .weight("w", &[300, 250], 1.0)
        .weight("bias", &[300], 1.0)
        .node("fc", gemm_node(true), &["x", "w", "bias"], &["y"])
        .output("y");
    let inputs = [("x".to_string(), random_input(3, &[37, 250]))];
    let (on_gpu, on_cpu) = crate::runtime::run_both(gpu, &builder.graph, &inputs);
    let got = on_gpu[0].1.expect_f32("test").unwrap();
    let want = on_cpu[0].1.expect_f32("test").unwrap();
    // Both backends sum 250 products of values in [-1, 1) and a bias in [-1, 1) in f32: each is off
    // the exact sum by at most (K + 2)·u times the sum of |terms| ≤ 251, so they differ by at most
    // twice that.
    let tolerance = 2.0 * 252.0 * UNIT_ROUNDOFF * 251.0;
    compare("plan gemm", got, want, &vec![tolerance; want.len()]).assert_passed();
}

fn gemm_node(trans_b: bool) -> Op {
    Op::Gemm {
        alpha: 1.0,
        beta: 1.0,
        trans_a: false,
        trans_b,
        activation: Activation::Identity,
    }
}

#[test]
fn other_tensors_beyond_one_binding_are_errors_naming_node_and_tensor() {
    let Some(gpu) = small_binding_gpu() else {
        return;
    };
    let big = GpuTensor::upload(gpu, &[20_000], &vec![1.0f32; 20_000]).unwrap();
    let error = activation(gpu, Activation::Relu, &big).err().unwrap();
    assert!(matches!(error, Error::TensorTooLarge { .. }), "{error}");

    let mut builder = Builder::new(5);
    builder
        .input("x", DType::F32, &[1, 20_000])
        .node("twice", Op::Binary(BinaryOp::Add), &["x", "x"], &["y"])
        .output("y");
    let error = run_error(gpu, &builder, &[1, 20_000]);
    let message = error.to_string();
    assert!(
        matches!(error, Error::TensorTooLarge { bytes: 80_000, limit, .. } if limit == SMALL_BINDING_BYTES),
        "{message}"
    );
    assert!(
        message.contains("node 'twice'") && message.contains("'x'"),
        "{message}"
    );

    // Small operands, an output of 40·500·4 = 80 000 bytes.
    let mut builder = Builder::new(6);
    builder
        .input("x", DType::F32, &[40, 10])
        .weight("w", &[10, 500], 1.0)
        .node("wide", gemm_node(false), &["x", "w"], &["wide_out"])
        .output("wide_out");
    let message = run_error(gpu, &builder, &[40, 10]).to_string();
    assert!(
        message.contains("node 'wide'") && message.contains("wide_out"),
        "{message}"
    );
}

/// The error of running `builder`'s graph, with input `x` of `shape`, on `gpu`.
fn run_error(gpu: &Gpu, builder: &Builder, shape: &[usize]) -> Error {
    let shapes = [("x".to_string(), shape.to_vec())];
    let inputs = [("x".to_string(), random_input(1, shape))];
    Plan::new(&builder.graph, &shapes, Backend::Gpu(gpu))
        .and_then(|mut plan| plan.run(&inputs))
        .expect_err("the run must fail")
}
