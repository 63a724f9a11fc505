//! MatMul and Gemm on the GPU backend. MatMul follows numpy: 1-D operands are promoted to
//! matrices and the batch dimensions broadcast. When B has no batch of its own, A's batch folds
//! into its rows (one 2-D product); otherwise both are broadcast to the common batch and run as
//! one batched product. The kernels take rank ≤ 3, so ranks above that pay one copy per operand
//! (`eval_node` borrows its inputs and cannot relabel them in place).

use crate::error::Result;
use crate::ops::elementwise::activation;
use crate::ops::gemm::{gemm, gemm_dims, GemmOptions};
use crate::ops::matmul::{f16::matmul_f16, f32::matmul_f32, MatmulOptions};
use crate::ops::Activation;
use crate::runtime::gpu::args::Args;
use crate::runtime::gpu::layout::{broadcast_to, view};
use crate::tensor::shape::broadcast_shapes;
use crate::tensor::{DType, GpuTensor};

/// A 1-D operand as a matrix: A `[K]` → `[1, K]`, B `[K]` → `[K, 1]`.
fn as_matrix(shape: &[usize], is_a: bool) -> Vec<usize> {
    match (shape, is_a) {
        ([k], true) => vec![1, *k],
        ([k], false) => vec![*k, 1],
        _ => shape.to_vec(),
    }
}

/// MatMul of f32 or f16 with numpy batching and a fused activation.
pub(super) fn matmul(args: &Args<'_>, activation: Activation) -> Result<GpuTensor> {
    let gpu = args.gpu;
    let a = args.tensor_of(0, &[DType::F32, DType::F16])?;
    let b = args.tensor_of(1, &[a.dtype()])?;
    if a.shape().is_empty() || b.shape().is_empty() {
        return Err(args.invalid("MatMul operands must have rank ≥ 1".into()));
    }
    let (a_matrix, b_matrix) = (as_matrix(a.shape(), true), as_matrix(b.shape(), false));
    let (a_batch, [m, k]) = split_matrix(&a_matrix);
    let (b_batch, [_, n]) = split_matrix(&b_matrix);
    let batch = broadcast_shapes("MatMul", a_batch, b_batch)?;
    let count: usize = batch.iter().product();
    let product = if b_batch.iter().product::<usize>() == 1 {
        // The kernels take A as [M, K] or [batch, M, K] against one B: only higher ranks fold.
        let a_shape = if a_matrix.len() <= 3 {
            a_matrix.clone()
        } else {
            vec![count * m, k]
        };
        let a_rows = view(gpu, a, &a_shape)?;
        let b_plain = view(gpu, b, &[b_matrix[b_matrix.len() - 2], n])?;
        run_product(args, a_rows.get(), b_plain.get(), activation)?
    } else {
        let a_matrix_view = view(gpu, a, &a_matrix)?;
        let a_full = broadcast_to(gpu, a_matrix_view.get(), &[&batch[..], &[m, k]].concat())?;
        let a_batched = view(gpu, a_full.get(), &[count, m, k])?;
        let b_matrix_view = view(gpu, b, &b_matrix)?;
        let b_rows = b_matrix[b_matrix.len() - 2];
        let b_full = broadcast_to(
            gpu,
            b_matrix_view.get(),
            &[&batch[..], &[b_rows, n]].concat(),
        )?;
        let b_batched = view(gpu, b_full.get(), &[count, b_rows, n])?;
        run_product(args, a_batched.get(), b_batched.get(), activation)?
    };
    let mut shape = batch;
    if a.shape().len() > 1 {
        shape.push(m);
    }
    if b.shape().len() > 1 {
        shape.push(n);
    }
    product.reshape(&shape)
}

/// The batch dimensions and the `[rows, cols]` of a shape of rank ≥ 2.
fn split_matrix(shape: &[usize]) -> (&[usize], [usize; 2]) {
    let (batch, matrix) = shape.split_at(shape.len() - 2);
    (batch, [matrix[0], matrix[1]])
}

fn run_product(
    args: &Args<'_>,
    a: &GpuTensor,
    b: &GpuTensor,
    activation: Activation,
) -> Result<GpuTensor> {
    let options = MatmulOptions {
        b_transposed: false,
        activation,
    };
    match a.dtype() {
        DType::F16 => matmul_f16(args.gpu, a, b, None, &options),
        _ => matmul_f32(args.gpu, a, b, None, &options),
    }
}

/// Gemm; a plain `A·B' + bias` runs the matmul kernel with the activation in its epilogue, any
/// other form the Gemm kernel followed by the activation as its own pass.
pub(super) fn gemm_with_activation(
    args: &Args<'_>,
    options: &GemmOptions,
    fused: Activation,
) -> Result<GpuTensor> {
    let a = args.tensor_of(0, &[DType::F32])?;
    let b = args.tensor_of(1, &[DType::F32])?;
    let c = args.optional_tensor(2)?;
    if let Some(c) = c {
        args.check_dtype(c.dtype(), &[DType::F32])?;
    }
    let dims = gemm_dims("Gemm", a.shape(), b.shape(), options)?;
    let bias_like = c.is_none_or(|c| options.beta == 1.0 && c.shape() == [dims.n]);
    if options.alpha == 1.0 && !options.trans_a && bias_like {
        let matmul = MatmulOptions {
            b_transposed: options.trans_b,
            activation: fused,
        };
        return matmul_f32(args.gpu, a, b, c, &matmul);
    }
    let y = gemm(args.gpu, a, b, c, options)?;
    match fused {
        Activation::Identity => Ok(y),
        fused => activation(args.gpu, fused, &y),
    }
}
