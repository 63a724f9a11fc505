//! The shortest walk through kiln's API: open the default device, upload two matrices, multiply
//! them with a fused bias and ReLU on the GPU, and check the result against the CPU reference.
//!
//! Run with `cargo run --release --example quickstart`.

use kiln::check::{compare, SeededRng};
use kiln::device::Gpu;
use kiln::ops::matmul::f32::matmul_f32;
use kiln::ops::matmul::reference::OutputPrecision;
use kiln::ops::matmul::{reference_matmul, MatmulDims, MatmulOptions};
use kiln::ops::Activation;
use kiln::tensor::GpuTensor;

fn main() -> kiln::Result<()> {
    let gpu = Gpu::from_env()?;
    println!("device: {} ({:?})", gpu.info().name, gpu.info().backend);

    let (m, k, n) = (100, 300, 50);
    let mut rng = SeededRng::new(1);
    let x = rng.uniform_vec(m * k, -1.0, 1.0);
    let weight = rng.uniform_vec(n * k, -0.1, 0.1); // [N, K], as a Linear layer stores it
    let bias = rng.uniform_vec(n, -0.5, 0.5);

    let options = MatmulOptions {
        b_transposed: true,
        activation: Activation::Relu,
    };
    let y = matmul_f32(
        &gpu,
        &GpuTensor::upload(&gpu, &[m, k], &x)?,
        &GpuTensor::upload(&gpu, &[n, k], &weight)?,
        Some(&GpuTensor::upload(&gpu, &[n], &bias)?),
        &options,
    )?
    .read::<f32>(&gpu)?;

    let dims = MatmulDims::infer("quickstart", &[m, k], &[n, k], true)?;
    let reference = reference_matmul(&x, &weight, &dims, Some(&bias), options.activation);
    let comparison = compare(
        "relu(x·Wᵀ + b)",
        &y,
        &reference.values(),
        &reference.tolerances(OutputPrecision::F32),
    );
    println!("{comparison}");
    println!("y[0, ..5] = {:?}", &y[..5]);
    Ok(())
}
