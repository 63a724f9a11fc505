//! `kiln bench kernels`: matmul (f32, f16, int8, int4) and conv2d (f32, f16, int8) on chosen sizes
//! and batches, on a GPU ([`gpu`]) or as kiln's CPU references ([`cpu`]), with the backend's roofline
//! measured in the same run. Operands are seeded random data; results are not checked here (the
//! self-check and the test suite do that), only timed.

pub mod cpu;
pub mod gpu;

use std::fmt;
use std::str::FromStr;

use crate::bench::measure::{IterationSettings, Timings};
use crate::bench::report::{BenchResult, Precision, Roofline, Throughput};
use crate::bench::roofline::RooflineSettings;
use crate::error::{Error, Result};
use crate::ops::conv::Conv2dParams;

/// The int4 weights' quantization group length (elements along K per scale).
pub const Q4_GROUP: usize = 128;

fn invalid(op: &'static str, detail: String) -> Error {
    Error::InvalidArgument { op, detail }
}

fn parse_dims<const N: usize>(op: &'static str, text: &str) -> Result<[usize; N]> {
    let parts: Vec<usize> = text
        .split(['x', 'X'])
        .map(|part| part.trim().parse::<usize>())
        .collect::<std::result::Result<_, _>>()
        .map_err(|_| invalid(op, format!("cannot read sizes in '{text}'")))?;
    let dims: [usize; N] = parts
        .try_into()
        .map_err(|_| invalid(op, format!("'{text}' needs {N} sizes joined by x")))?;
    if dims.contains(&0) {
        return Err(invalid(op, format!("'{text}' has a zero size")));
    }
    Ok(dims)
}

/// A matmul problem `[batch, M, K] × [K, N]`, written `MxNxK` (or one number for a cube).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MatmulSize {
    /// Rows of A and C.
    pub m: usize,
    /// Columns of B and C.
    pub n: usize,
    /// The reduction length.
    pub k: usize,
}

impl FromStr for MatmulSize {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        if let Ok([side]) = parse_dims::<1>("--sizes", text) {
            return Ok(MatmulSize {
                m: side,
                n: side,
                k: side,
            });
        }
        let [m, n, k] = parse_dims("--sizes", text)?;
        Ok(MatmulSize { m, n, k })
    }
}

impl fmt::Display for MatmulSize {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}x{}x{}", self.m, self.n, self.k)
    }
}

/// A conv layer written `CxHxW:KHxKW:O`: input channels and size, kernel size, output channels;
/// stride 1, padding `K/2` on each side (the size is kept for odd kernels), one group.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ConvLayer {
    /// Input `[C, H, W]`.
    pub input: [usize; 3],
    /// Kernel `[KH, KW]`.
    pub kernel: [usize; 2],
    /// Output channels.
    pub out_channels: usize,
}

impl ConvLayer {
    /// The conv attributes.
    pub fn params(&self) -> Conv2dParams {
        let [kh, kw] = self.kernel;
        Conv2dParams {
            pads: [kh / 2, kw / 2, kh / 2, kw / 2],
            ..Conv2dParams::default()
        }
    }

    /// The NCHW input shape at `batch`.
    pub fn input_shape(&self, batch: usize) -> [usize; 4] {
        let [c, h, w] = self.input;
        [batch, c, h, w]
    }

    /// The `[O, C, KH, KW]` weight shape.
    pub fn weight_shape(&self) -> [usize; 4] {
        [
            self.out_channels,
            self.input[0],
            self.kernel[0],
            self.kernel[1],
        ]
    }

    /// Output height and width: `H + 2·(KH/2) − KH + 1`, at least 1 for any kernel since the
    /// padding makes the padded input at least as large as the kernel.
    pub fn output_size(&self) -> [usize; 2] {
        let [_, h, w] = self.input;
        let [kh, kw] = self.kernel;
        [h + 2 * (kh / 2) + 1 - kh, w + 2 * (kw / 2) + 1 - kw]
    }
}

impl FromStr for ConvLayer {
    type Err = Error;

    fn from_str(text: &str) -> Result<Self> {
        let parts: Vec<&str> = text.split(':').collect();
        let [input, kernel, out] = parts[..] else {
            return Err(invalid("--conv", format!("'{text}' is not CxHxW:KHxKW:O")));
        };
        let input = parse_dims::<3>("--conv", input)?;
        let kernel = parse_dims::<2>("--conv", kernel)?;
        let [out_channels] = parse_dims::<1>("--conv", out)?;
        Ok(ConvLayer {
            input,
            kernel,
            out_channels,
        })
    }
}

impl fmt::Display for ConvLayer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let [c, h, w] = self.input;
        let [kh, kw] = self.kernel;
        write!(f, "{c}x{h}x{w}:{kh}x{kw}:{}", self.out_channels)
    }
}

/// One problem kind.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Problem {
    /// A matmul.
    Matmul(MatmulSize),
    /// A conv2d layer.
    Conv(ConvLayer),
}

/// One benchmark: a problem at a precision and batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KernelCase {
    /// The problem.
    pub problem: Problem,
    /// The precision.
    pub precision: Precision,
    /// The batch (matmul: leading batch dimension of A; conv: images).
    pub batch: usize,
}

impl KernelCase {
    /// `matmul` or `conv2d`.
    pub fn kernel(&self) -> &'static str {
        match self.problem {
            Problem::Matmul(_) => "matmul",
            Problem::Conv(_) => "conv2d",
        }
    }

    /// The problem as text.
    pub fn shape(&self) -> String {
        match self.problem {
            Problem::Matmul(size) => size.to_string(),
            Problem::Conv(layer) => layer.to_string(),
        }
    }

    /// FLOP of one run: 2 per multiply-add.
    pub fn operations(&self) -> f64 {
        let batch = self.batch as f64;
        match self.problem {
            Problem::Matmul(s) => 2.0 * batch * (s.m * s.n * s.k) as f64,
            Problem::Conv(layer) => {
                let [oh, ow] = layer.output_size();
                let taps: usize = layer.weight_shape().iter().product();
                2.0 * batch * (taps * oh * ow) as f64
            }
        }
    }

    /// The bytes one run must move: operands in, result out, plus quantization scales.
    pub fn bytes(&self) -> f64 {
        let batch = self.batch;
        let (input, weight, output, rows) = match self.problem {
            Problem::Matmul(s) => (batch * s.m * s.k, s.k * s.n, batch * s.m * s.n, s.n),
            Problem::Conv(layer) => {
                let [oh, ow] = layer.output_size();
                let input: usize = layer.input_shape(batch).iter().product();
                let weight: usize = layer.weight_shape().iter().product();
                let output = batch * layer.out_channels * oh * ow;
                (input, weight, output, layer.out_channels)
            }
        };
        let (input, weight, output) = (input as f64, weight as f64, output as f64);
        let is_conv = matches!(self.problem, Problem::Conv(_));
        match self.precision {
            Precision::F32 => 4.0 * (input + weight + output),
            Precision::F16 => 2.0 * (input + weight + output),
            // int8 operands, f32 per-channel scales; the matmul writes f32, QLinearConv int8.
            Precision::Int8 => {
                input + weight + 4.0 * rows as f64 + if is_conv { output } else { 4.0 * output }
            }
            // f32 activations and output; 4-bit weights with an f16 scale and a byte zero point
            // per group of Q4_GROUP along K.
            Precision::Int4 => {
                let groups = (weight / rows as f64 / Q4_GROUP as f64).ceil() * rows as f64;
                4.0 * (input + output) + weight / 2.0 + 3.0 * groups
            }
        }
    }

    /// The result of this case from its timings (throughput and roofline filled in).
    pub fn result(
        &self,
        variant: &str,
        timings: &Timings,
        roof: Option<&Roofline>,
    ) -> Result<BenchResult> {
        let mut result = BenchResult {
            kernel: self.kernel().into(),
            shape: self.shape(),
            precision: self.precision,
            batch: self.batch,
            variant: variant.into(),
            operations: Some(self.operations()),
            bytes: Some(self.bytes()),
            latency: timings.summarize()?,
            throughput: Throughput {
                gflop_per_s: None,
                gb_per_s: None,
                inferences_per_s: 0.0,
            },
            roofline_percent: None,
        };
        result.fill_throughput(roof);
        Ok(result)
    }
}

/// What `kiln bench kernels` runs.
#[derive(Clone, Debug, PartialEq)]
pub struct KernelBenchConfig {
    /// Matmul problems.
    pub matmuls: Vec<MatmulSize>,
    /// Conv layers.
    pub convs: Vec<ConvLayer>,
    /// Precisions to run (conv has no int4 kernel, so conv skips int4).
    pub precisions: Vec<Precision>,
    /// Batch sizes.
    pub batches: Vec<usize>,
    /// Warm-up and timed iterations of each case.
    pub iterations: IterationSettings,
    /// The roofline measurement, or `None` to skip it.
    pub roofline: Option<RooflineSettings>,
}

impl Default for KernelBenchConfig {
    /// Sizes that take seconds on lavapipe: matmul 256³ and 512³ and a 64-channel 3×3 conv on 56×56
    /// (a ResNet stage-1 layer), every precision, batch 1.
    fn default() -> Self {
        KernelBenchConfig {
            matmuls: vec![
                MatmulSize {
                    m: 256,
                    n: 256,
                    k: 256,
                },
                MatmulSize {
                    m: 512,
                    n: 512,
                    k: 512,
                },
            ],
            convs: vec![ConvLayer {
                input: [64, 56, 56],
                kernel: [3, 3],
                out_channels: 64,
            }],
            precisions: Precision::ALL.to_vec(),
            batches: vec![1],
            iterations: IterationSettings::default(),
            roofline: Some(RooflineSettings::default()),
        }
    }
}

impl KernelBenchConfig {
    /// Fails with [`Error::InvalidArgument`] on no problems, no precisions or batches, batch 0,
    /// or zero iterations.
    pub fn validate(&self) -> Result<()> {
        self.iterations.validate()?;
        if self.matmuls.is_empty() && self.convs.is_empty() {
            return Err(invalid(
                "bench kernels",
                "give at least one --sizes or --conv".into(),
            ));
        }
        if self.precisions.is_empty() || self.batches.is_empty() || self.batches.contains(&0) {
            return Err(invalid(
                "bench kernels",
                "give at least one precision and batch sizes of at least 1".into(),
            ));
        }
        Ok(())
    }

    /// Every case, in run order: matmuls, then convs; per problem each precision, per precision
    /// each batch. Conv at int4 is left out: kiln has no int4 convolution.
    pub fn cases(&self) -> Vec<KernelCase> {
        let problems = self
            .matmuls
            .iter()
            .map(|&size| Problem::Matmul(size))
            .chain(self.convs.iter().map(|&layer| Problem::Conv(layer)));
        let mut cases = Vec::new();
        for problem in problems {
            for &precision in &self.precisions {
                if matches!(problem, Problem::Conv(_)) && precision == Precision::Int4 {
                    continue;
                }
                for &batch in &self.batches {
                    cases.push(KernelCase {
                        problem,
                        precision,
                        batch,
                    });
                }
            }
        }
        cases
    }
}
