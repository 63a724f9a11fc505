//! Block-sparse (BSR) matmul against `kiln::ops::sparse::reference`: f32 and f16 within the
//! derived f32-accumulation bounds (`MatmulReference::tolerances`, which hold for any summation
//! order), int8 accumulators exactly, and int8 f32 outputs within the bound `reference_q8` derives
//! for the dense int8 kernel's store, which the BSR reduce shares. Every block shape, both pass-1
//! kernels, both dot-product paths; shapes are small because lavapipe runs on two CPU cores.

mod checks;

use half::f16;
use kiln::check::{compare, compare_exact, SeededRng};
use kiln::ops::matmul::int8::{Dot4Path, GpuQ8Activations};
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::sparse::bsr::{
    bsr_matmul, bsr_matmul_q8, bsr_matmul_q8_i32, BsrKernel, GpuBsrMatrix,
};
use kiln::ops::sparse::{reference_bsr_matmul, reference_bsr_matmul_i8};
use kiln::ops::Activation;
use kiln::tensor::bsr::{BlockShape, BsrMatrix, BsrValues};
use kiln::tensor::{GpuTensor, Q8Activations};
use kiln::Error;

use crate::common::{gpu, random_values};
use checks::{batch_and_rows, check_float, check_q8, pruned, random_q8, FloatCase};

const KERNELS: [BsrKernel; 2] = [BsrKernel::Gemm, BsrKernel::Gemv];
/// An edge case in both dimensions for every block shape: 37 rows and 45 columns are multiples of
/// none of the block sides above 1.
const N: usize = 37;
const K: usize = 45;
/// One row (the GEMV's case, also forced through the GEMM) and a batch of 3 × 17 rows.
const X_SHAPES: [&[usize]; 2] = [&[1, K], &[3, 17, K]];

#[test]
fn sparsity_sweep_matches_reference() {
    if gpu().is_none() {
        return;
    }
    for (index, sparsity) in [0.0, 0.5, 0.75, 0.9, 1.0].into_iter().enumerate() {
        for block in [BlockShape::B4x4, BlockShape::B8x8] {
            let w = pruned(index as u64, (N, K), block, sparsity);
            for x_shape in X_SHAPES {
                let case = FloatCase {
                    label: "sweep",
                    w: &w,
                    x_shape,
                    with_bias: true,
                    activation: Activation::Identity,
                };
                for kernel in KERNELS {
                    check_float(&case, kernel, 10 + index as u64);
                }
            }
        }
    }
}

#[test]
fn every_block_shape_and_dtype() {
    if gpu().is_none() {
        return;
    }
    for (index, block) in BlockShape::ALL.into_iter().enumerate() {
        let seed = 100 + index as u64;
        let w = pruned(seed, (N, K), block, 0.5);
        let w_f16 = w.to_f16();
        let w_i8 = w.quantize_i8().unwrap();
        let mut rng = SeededRng::new(seed);
        for x_shape in X_SHAPES {
            for kernel in KERNELS {
                for weights in [&w, &w_f16] {
                    let case = FloatCase {
                        label: "shapes",
                        w: weights,
                        x_shape,
                        with_bias: kernel == BsrKernel::Gemv,
                        activation: Activation::Identity,
                    };
                    check_float(&case, kernel, seed);
                }
                let (batch, m) = batch_and_rows(x_shape);
                let x = random_q8(&mut rng, batch * m, K, -7);
                let bias = rng.uniform_vec(N, -2.0, 2.0);
                let epilogue = (Some(&bias[..]), Activation::Identity);
                check_q8("shapes", (&w_i8, &x), (batch, m), epilogue, kernel);
            }
        }
    }
}

#[test]
fn auto_picks_a_kernel_and_keeps_the_batch_shape() {
    let Some(gpu) = gpu() else { return };
    let w = pruned(200, (N, K), BlockShape::B16x16, 0.75);
    let w_gpu = GpuBsrMatrix::upload(gpu, &w).unwrap();
    for (seed, x_shape) in X_SHAPES.into_iter().enumerate() {
        let x = random_values(&mut SeededRng::new(seed as u64), x_shape.iter().product());
        let x_gpu = GpuTensor::upload(gpu, x_shape, &x).unwrap();
        let y = bsr_matmul(gpu, &x_gpu, &w_gpu, None, Activation::Relu).unwrap();
        let rows = x.len() / K;
        let reference = reference_bsr_matmul(&x, rows, &w, None, Activation::Relu);
        let tolerances = reference.tolerances(OutputPrecision::F32);
        let got = y.read::<f32>(gpu).unwrap();
        compare("bsr auto", &got, &reference.values(), &tolerances).assert_passed();
        assert_eq!(y.shape()[..x_shape.len() - 1], x_shape[..x_shape.len() - 1]);
    }
    let w_i8 = GpuBsrMatrix::upload(gpu, &w.quantize_i8().unwrap()).unwrap();
    let x = random_q8(&mut SeededRng::new(201), 51, K, 3);
    let x_gpu = GpuQ8Activations::upload(gpu, &x, 3, 17).unwrap();
    let path = Dot4Path::preferred(gpu);
    let want = reference_bsr_matmul_i8(&x, &w.quantize_i8().unwrap()).unwrap();
    let y = bsr_matmul_q8_i32(gpu, &x_gpu, &w_i8, path).unwrap();
    assert_eq!(y.shape(), [3, 17, N]);
    compare_exact("bsr auto int8", &y.read::<i32>(gpu).unwrap(), &want).assert_passed();
    let y = bsr_matmul_q8(gpu, &x_gpu, &w_i8, None, Activation::Identity, path).unwrap();
    assert_eq!(y.shape(), [3, 17, N]);
}

/// Block rows with no stored blocks beside full ones: those outputs are `act(bias)` exactly as the
/// reference says, and a matrix with no blocks at all gives `act(bias)` everywhere.
#[test]
fn empty_block_rows_beside_full_rows() {
    if gpu().is_none() {
        return;
    }
    let (n, k, block) = (40usize, 45usize, BlockShape::B4x4);
    let (grid_rows, grid_cols) = (n / 4, k.div_ceil(4));
    let dense = random_values(&mut SeededRng::new(300), n * k);
    // Block rows 0 and 9 full, 4 with one block, the rest empty.
    let keep: Vec<bool> = (0..grid_rows * grid_cols)
        .map(|flag| {
            let (block_row, block_col) = (flag / grid_cols, flag % grid_cols);
            block_row == 0 || block_row == 9 || (block_row == 4 && block_col == 5)
        })
        .collect();
    let no_blocks = vec![false; keep.len()];
    for mask in [&keep, &no_blocks] {
        let w = BsrMatrix::from_dense_with_mask(&dense, n, k, block, mask).unwrap();
        for (weights, seed) in [(w.clone(), 301), (w.to_f16(), 302)] {
            for x_shape in [&[1, 45][..], &[2, 5, 45]] {
                for kernel in KERNELS {
                    let case = FloatCase {
                        label: "empty rows",
                        w: &weights,
                        x_shape,
                        with_bias: true,
                        activation: Activation::Sigmoid,
                    };
                    check_float(&case, kernel, seed);
                }
            }
        }
        let w_i8 = w.quantize_i8().unwrap();
        let x = random_q8(&mut SeededRng::new(303), 10, k, 9);
        let bias = SeededRng::new(304).uniform_vec(n, -2.0, 2.0);
        for kernel in KERNELS {
            let epilogue = (Some(&bias[..]), Activation::Tanh);
            check_q8("empty rows", (&w_i8, &x), (2, 5), epilogue, kernel);
        }
    }
}

/// Saturating int8 values (−128 and 127 in both operands) against activation zero points that
/// put `x − x_zp` at ±255: accumulators must be exact on both paths and kernels.
#[test]
fn int8_saturating_values_are_exact() {
    if gpu().is_none() {
        return;
    }
    let k = 130;
    for (index, block) in BlockShape::ALL.into_iter().enumerate() {
        let dense = pruned(400 + index as u64, (N, k), block, 0.25).to_dense();
        // Every stored value becomes -128 or 127 (scale 1), keeping the pruned pattern.
        let saturate = |(flat, &value): (usize, &f32)| match value {
            0.0 => 0.0,
            _ if flat % 3 == 0 => -128.0,
            _ => 127.0,
        };
        let saturated: Vec<f32> = dense.iter().enumerate().map(saturate).collect();
        let w = BsrMatrix::from_dense_f32(&saturated, N, k, block).unwrap();
        let BsrValues::F32(floats) = &w.values else {
            unreachable!("from_dense_f32 stores f32")
        };
        let values = BsrValues::I8 {
            values: floats.iter().map(|&value| value as i8).collect(),
            scales: vec![1.0; N],
        };
        let (row_ptr, col_idx) = (w.row_ptr.clone(), w.col_idx.clone());
        let w = BsrMatrix::from_parts(N, k, block, row_ptr, col_idx, values).unwrap();
        for zero_point in [127, -128] {
            let x_values: Vec<i8> = (0..3 * k)
                .map(|flat| if flat % 5 < 2 { -128 } else { 127 })
                .collect();
            let x = Q8Activations::from_parts(3, k, &x_values, 0.01, zero_point).unwrap();
            for kernel in KERNELS {
                let label = format!("saturating zp {zero_point}");
                check_q8(
                    &label,
                    (&w, &x),
                    (1, 3),
                    (None, Activation::Identity),
                    kernel,
                );
            }
        }
    }
}

#[test]
fn every_activation_with_bias() {
    if gpu().is_none() {
        return;
    }
    let w = pruned(500, (N, K), BlockShape::B8x8, 0.6);
    let w_i8 = w.quantize_i8().unwrap();
    let x_q8 = random_q8(&mut SeededRng::new(501), 18, K, -20);
    let bias = SeededRng::new(502).uniform_vec(N, -2.0, 2.0);
    for activation in Activation::ALL {
        for kernel in KERNELS {
            let case = FloatCase {
                label: "activation",
                w: &w,
                x_shape: &[2, 9, K],
                with_bias: true,
                activation,
            };
            check_float(&case, kernel, 503);
            let epilogue = (Some(&bias[..]), activation);
            check_q8("activation", (&w_i8, &x_q8), (2, 9), epilogue, kernel);
        }
    }
}

/// One block row full and long enough to need several chunks, the others with one block each:
/// the heavy row must be split, and the split sums must agree with the reference.
#[test]
fn heavy_row_is_split_into_chunks() {
    let Some(gpu) = gpu() else { return };
    for (block, n, k) in [
        (BlockShape::B4x4, 24usize, 2100usize),
        (BlockShape::B32x32, 70, 300),
        (BlockShape::B1x32, 6, 8300),
    ] {
        let (grid_rows, grid_cols) = (n.div_ceil(block.rows()), k.div_ceil(block.cols()));
        let keep: Vec<bool> = (0..grid_rows * grid_cols)
            .map(|flag| flag / grid_cols == 0 || flag % grid_cols == flag / grid_cols)
            .collect();
        let dense = random_values(&mut SeededRng::new(600), n * k);
        let w = BsrMatrix::from_dense_with_mask(&dense, n, k, block, &keep).unwrap();
        let w_gpu = GpuBsrMatrix::upload(gpu, &w).unwrap();
        assert!(
            w_gpu.chunk_count() > grid_rows,
            "{block}: the full row of {grid_cols} blocks should span several chunks, got {} \
             chunks for {grid_rows} block rows",
            w_gpu.chunk_count()
        );
        for kernel in KERNELS {
            let case = FloatCase {
                label: "heavy row",
                w: &w,
                x_shape: &[3, k],
                with_bias: true,
                activation: Activation::Identity,
            };
            check_float(&case, kernel, 601);
            let x = random_q8(&mut SeededRng::new(602), 3, k, 100);
            let w_i8 = w.quantize_i8().unwrap();
            check_q8(
                "heavy row",
                (&w_i8, &x),
                (1, 3),
                (None, Activation::Relu),
                kernel,
            );
        }
    }
}

/// The error a call returned, for matching on its variant.
fn error_of<T>(result: Result<T, Error>) -> Error {
    result.err().expect("the call should have failed")
}

#[test]
fn bad_operands_are_errors_not_panics() {
    let Some(gpu) = gpu() else { return };
    let w = pruned(700, (N, K), BlockShape::B4x4, 0.5);
    let w_gpu = GpuBsrMatrix::upload(gpu, &w).unwrap();
    let w_i8 = GpuBsrMatrix::upload(gpu, &w.quantize_i8().unwrap()).unwrap();
    let none = Activation::Identity;
    let x = GpuTensor::upload(gpu, &[2, K], &[0.5f32; 2 * K]).unwrap();
    let shape = |error| matches!(error, Error::ShapeMismatch { .. });
    let dtype = |error| matches!(error, Error::DTypeMismatch { .. });
    let wrong_k = GpuTensor::upload(gpu, &[2, K + 1], &[0.5f32; 2 * (K + 1)]).unwrap();
    assert!(shape(error_of(bsr_matmul(
        gpu, &wrong_k, &w_gpu, None, none
    ))));
    let rank_one = GpuTensor::upload(gpu, &[K], &[0.5f32; K]).unwrap();
    assert!(shape(error_of(bsr_matmul(
        gpu, &rank_one, &w_gpu, None, none
    ))));
    let short_bias = GpuTensor::upload(gpu, &[N - 1], &[0.0f32; N - 1]).unwrap();
    let result = bsr_matmul(gpu, &x, &w_gpu, Some(&short_bias), none);
    assert!(shape(error_of(result)));
    let half_bias = GpuTensor::upload(gpu, &[N], &[f16::ZERO; N]).unwrap();
    assert!(dtype(error_of(bsr_matmul(
        gpu,
        &x,
        &w_gpu,
        Some(&half_bias),
        none
    ))));
    let x_f16 = GpuTensor::upload(gpu, &[2, K], &[f16::ONE; 2 * K]).unwrap();
    assert!(dtype(error_of(bsr_matmul(gpu, &x_f16, &w_gpu, None, none))));
    let int8_weights = error_of(bsr_matmul(gpu, &x, &w_i8, None, none));
    assert!(matches!(int8_weights, Error::InvalidArgument { .. }));

    let path = Dot4Path::Unpacked;
    let x_q8 = random_q8(&mut SeededRng::new(701), 2, K, 0);
    let x_q8 = GpuQ8Activations::upload(gpu, &x_q8, 1, 2).unwrap();
    assert!(dtype(error_of(bsr_matmul_q8_i32(gpu, &x_q8, &w_gpu, path))));
    let short_q8 = random_q8(&mut SeededRng::new(702), 2, K - 1, 0);
    let short_q8 = GpuQ8Activations::upload(gpu, &short_q8, 1, 2).unwrap();
    assert!(shape(error_of(bsr_matmul_q8_i32(
        gpu, &short_q8, &w_i8, path
    ))));
    let result = bsr_matmul_q8(gpu, &x_q8, &w_i8, Some(&short_bias), none, path);
    assert!(shape(error_of(result)));

    // K beyond the exact-i32 limit, and a hand-edited matrix that breaks the layout contract.
    let long_k = 32769;
    let long = BsrMatrix::from_dense_f32(&vec![0.0; long_k], 1, long_k, BlockShape::B1x32);
    let long = GpuBsrMatrix::upload(gpu, &long.unwrap().quantize_i8().unwrap()).unwrap();
    let long_x = random_q8(&mut SeededRng::new(703), 1, long_k, 0);
    let long_x = GpuQ8Activations::upload(gpu, &long_x, 1, 1).unwrap();
    let too_long = error_of(bsr_matmul_q8_i32(gpu, &long_x, &long, path));
    assert!(matches!(too_long, Error::InvalidArgument { .. }));
    let mut broken = w.clone();
    broken.col_idx[0] = 99;
    let broken = error_of(GpuBsrMatrix::upload(gpu, &broken));
    assert!(matches!(broken, Error::InvalidArgument { .. }));
}
