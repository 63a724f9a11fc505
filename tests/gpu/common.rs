//! Shared by the GPU tests: the device, the shape sweep every matmul dtype runs, and seeded data.

use std::sync::OnceLock;

use kiln::check::SeededRng;
use kiln::device::Gpu;
use kiln::ops::matmul::gemv::WeightKernel;
use kiln::ops::matmul::MatmulDims;
use kiln::tensor::GpuTensor;
use kiln::Error;

/// The device every test uses. GPU tests never skip silently: without an adapter they fail, unless
/// `KILN_SKIP_GPU_TESTS=1` says on purpose that this machine has none.
pub fn gpu() -> Option<&'static Gpu> {
    static GPU: OnceLock<Option<Gpu>> = OnceLock::new();
    GPU.get_or_init(|| match Gpu::from_env() {
        Ok(gpu) => {
            eprintln!(
                "GPU tests on {} ({:?})",
                gpu.info().name,
                gpu.info().backend
            );
            Some(gpu)
        }
        Err(error) if std::env::var("KILN_SKIP_GPU_TESTS").as_deref() == Ok("1") => {
            eprintln!("skipping GPU tests (KILN_SKIP_GPU_TESTS=1): {error}");
            None
        }
        Err(error) => panic!("{error}\n(set KILN_SKIP_GPU_TESTS=1 to skip GPU tests on purpose)"),
    })
    .as_ref()
}

/// One matmul problem of the sweep.
#[derive(Clone, Copy, Debug)]
pub struct Case {
    pub batch: usize,
    pub m: usize,
    pub n: usize,
    pub k: usize,
    pub b_batched: bool,
    pub b_transposed: bool,
}

impl Case {
    pub const fn new(batch: usize, m: usize, n: usize, k: usize) -> Self {
        Case {
            batch,
            m,
            n,
            k,
            b_batched: false,
            b_transposed: false,
        }
    }

    pub fn a_shape(&self) -> Vec<usize> {
        if self.batch == 1 {
            vec![self.m, self.k]
        } else {
            vec![self.batch, self.m, self.k]
        }
    }

    pub fn b_shape(&self) -> Vec<usize> {
        let matrix = if self.b_transposed {
            [self.n, self.k]
        } else {
            [self.k, self.n]
        };
        if self.b_batched {
            vec![self.batch, matrix[0], matrix[1]]
        } else {
            matrix.to_vec()
        }
    }

    pub fn dims(&self) -> MatmulDims {
        MatmulDims::infer("test", &self.a_shape(), &self.b_shape(), self.b_transposed).unwrap()
    }

    pub fn b_len(&self) -> usize {
        self.k * self.n * if self.b_batched { self.batch } else { 1 }
    }
}

/// The shapes every matmul dtype is tested on: 1×1×1, primes, tall and skinny, wide, M = 1,
/// K not a multiple of the 16-deep tile, tiles that are exactly full, K = 0, batches with shared
/// and per-batch B, and transposed B. Small enough for lavapipe on two cores.
pub fn shape_sweep() -> Vec<Case> {
    let plain = [
        Case::new(1, 1, 1, 1),
        Case::new(1, 17, 33, 65),
        Case::new(1, 67, 71, 131),
        Case::new(1, 257, 3, 19),
        Case::new(1, 5, 263, 9),
        Case::new(1, 1, 129, 300),
        Case::new(1, 64, 64, 17),
        Case::new(1, 64, 128, 64),
        Case::new(1, 68, 72, 100),
        Case::new(1, 3, 5, 0),
        Case::new(3, 19, 23, 31),
    ];
    let mut cases = plain.to_vec();
    for base in [
        Case::new(1, 17, 33, 65),
        Case::new(2, 33, 20, 40),
        Case::new(1, 1, 77, 96),
    ] {
        cases.push(Case {
            b_transposed: true,
            ..base
        });
    }
    cases.push(Case {
        b_batched: true,
        ..Case::new(3, 19, 23, 31)
    });
    cases.push(Case {
        b_batched: true,
        b_transposed: true,
        ..Case::new(2, 9, 16, 12)
    });
    cases
}

/// Seeded uniform values in [-1, 1) with some exact zeros and negatives mixed in.
pub fn random_values(rng: &mut SeededRng, count: usize) -> Vec<f32> {
    (0..count)
        .map(|index| {
            if index % 11 == 3 {
                0.0
            } else {
                rng.uniform(-1.0, 1.0)
            }
        })
        .collect()
}

/// Whether `result` is an [`Error::ShapeMismatch`].
pub fn shape<T>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::ShapeMismatch { .. }))
}

/// Whether `result` is an [`Error::DTypeMismatch`].
pub fn dtype<T>(result: Result<T, Error>) -> bool {
    matches!(result, Err(Error::DTypeMismatch { .. }))
}

/// The input errors every product with an f32 weight of shape [4, 10] must report, given
/// `run(x, bias, kernel)`: a K mismatch and a rank-1 input are shape errors, the GEMV with two
/// rows is an invalid argument, a bias of the wrong length a shape error, and an f16 bias or i32
/// activations dtype errors.
pub fn check_weight_product_errors(
    gpu: &Gpu,
    run: impl Fn(&GpuTensor, Option<&GpuTensor>, WeightKernel) -> kiln::Result<GpuTensor>,
) {
    let x = GpuTensor::upload(gpu, &[2, 10], &[1.0f32; 20]).unwrap();
    let short_k = GpuTensor::upload(gpu, &[2, 9], &[1.0f32; 18]).unwrap();
    assert!(shape(run(&short_k, None, WeightKernel::Auto)));
    let rank1 = GpuTensor::upload(gpu, &[10], &[1.0f32; 10]).unwrap();
    assert!(shape(run(&rank1, None, WeightKernel::Auto)));
    let gemv = run(&x, None, WeightKernel::Gemv);
    assert!(matches!(gemv, Err(Error::InvalidArgument { .. })));
    let bias3 = GpuTensor::upload(gpu, &[3], &[1.0f32; 3]).unwrap();
    assert!(shape(run(&x, Some(&bias3), WeightKernel::Auto)));
    let bias_f16 = GpuTensor::upload(gpu, &[4], &[half::f16::ONE; 4]).unwrap();
    assert!(dtype(run(&x, Some(&bias_f16), WeightKernel::Auto)));
    let ints = GpuTensor::upload(gpu, &[2, 10], &[1i32; 20]).unwrap();
    assert!(dtype(run(&ints, None, WeightKernel::Auto)));
}
