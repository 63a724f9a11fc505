//! DynamicQuantizeLinear and MatMulInteger on the GPU against their CPU references: both are
//! integer results and must match exactly (DynamicQuantizeLinear's f32 scale bit for bit too).

use kiln::check::{compare_exact, SeededRng};
use kiln::ops::matmul::int8::{
    integer_weights, matmul_integer, reference_matmul_integer, Dot4Path, GpuQ8Weights,
    IntegerProduct,
};
use kiln::ops::quantize::{dynamic_quantize_linear, reference_dynamic_quantize_linear};
use kiln::tensor::{GpuTensor, HostTensor, TensorData};

use crate::common::gpu;

/// Runs DynamicQuantizeLinear on the GPU and checks all three outputs against the reference.
fn check_dynamic(label: &str, x: &[f32]) {
    let gpu = gpu().expect("checked by caller");
    let x_gpu = GpuTensor::upload(gpu, &[x.len()], x).unwrap();
    let [y, scale, zero_point] = dynamic_quantize_linear(gpu, &x_gpu).unwrap();
    let want = reference_dynamic_quantize_linear(x);
    let got_scale = scale.read::<f32>(gpu).unwrap()[0];
    assert_eq!(got_scale.to_bits(), want.scale.to_bits(), "{label}: scale");
    assert_eq!(
        zero_point.read::<u8>(gpu).unwrap(),
        [want.zero_point],
        "{label}"
    );
    let widen = |values: &[u8]| values.iter().map(|&q| i32::from(q)).collect::<Vec<_>>();
    let got = widen(&y.read::<u8>(gpu).unwrap());
    compare_exact(label, &got, &widen(&want.values)).assert_passed();
}

#[test]
fn dynamic_quantize_linear_matches_the_reference_bit_for_bit() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(1311);
    for magnitude in [1e-6f32, 1e-3, 1.0, 37.0, 1e2] {
        for count in [1usize, 5, 255, 1023, 4097] {
            let x: Vec<f32> = (0..count)
                .map(|_| rng.uniform(-0.7, 1.3) * magnitude)
                .collect();
            check_dynamic(&format!("mixed × {magnitude}, {count}"), &x);
        }
        let positive: Vec<f32> = (0..77).map(|_| rng.uniform(0.0, magnitude)).collect();
        check_dynamic(&format!("positive × {magnitude}"), &positive);
        let negative: Vec<f32> = (0..77).map(|_| -rng.uniform(0.0, magnitude)).collect();
        check_dynamic(&format!("negative × {magnitude}"), &negative);
    }
    check_dynamic("all zero", &[0.0; 9]);
    check_dynamic("NaN left out", &[f32::NAN, -1.5, 0.25, f32::NAN, 3.0]);
}

#[test]
fn dynamic_quantize_linear_rounds_quotients_at_half_steps_exactly() {
    if gpu().is_none() {
        return;
    }
    // 0 and 2.55 set the scale to f32(2.55) / 255; every value then sits at or beside a half step,
    // where a division off by an ULP (WGSL allows 2.5) would round to the other neighbour.
    let scale = 2.55f32 / 255.0;
    let mut x = vec![0.0, 2.55];
    for step in 0..255 {
        let tie = (step as f32 + 0.5) * scale;
        x.extend([
            tie,
            f32::from_bits(tie.to_bits() - 1),
            f32::from_bits(tie.to_bits() + 1),
        ]);
    }
    check_dynamic("half steps", &x);
    let negated: Vec<f32> = x.iter().map(|value| -value).collect();
    check_dynamic("negated half steps", &negated);
}

/// One MatMulInteger operand: values and zero points of one 8-bit dtype.
pub(crate) struct Operand {
    pub signed: bool,
    pub values: Vec<i64>,
    pub zero_points: Vec<i64>,
}

impl Operand {
    pub fn random(rng: &mut SeededRng, signed: bool, count: usize, zero_points: Vec<i64>) -> Self {
        let (low, high) = if signed { (-128, 127) } else { (0, 255) };
        let values = (0..count)
            .map(|_| i64::from(rng.int_in(low, high)))
            .collect();
        Operand {
            signed,
            values,
            zero_points,
        }
    }

    pub fn host(&self, shape: &[usize], values: &[i64]) -> HostTensor {
        let data = if self.signed {
            TensorData::I8(values.iter().map(|&v| v as i8).collect())
        } else {
            TensorData::U8(values.iter().map(|&v| v as u8).collect())
        };
        HostTensor::new(shape, data).unwrap()
    }

    pub fn zero_point_tensor(&self) -> HostTensor {
        let shape = if self.zero_points.len() == 1 {
            vec![]
        } else {
            vec![self.zero_points.len()]
        };
        self.host(&shape, &self.zero_points)
    }
}

pub(crate) fn upload_host(tensor: &HostTensor) -> GpuTensor {
    let gpu = gpu().expect("checked by caller");
    match tensor.data() {
        TensorData::I8(values) => GpuTensor::upload(gpu, tensor.shape(), values).unwrap(),
        TensorData::U8(values) => GpuTensor::upload(gpu, tensor.shape(), values).unwrap(),
        other => panic!("not 8-bit: {other:?}"),
    }
}

/// `a` `[batch, m, k]` times constant `b` `[k, n]` on the GPU against the reference.
fn check_matmul_integer(label: &str, a: &Operand, b: &Operand, [batch, m, k, n]: [usize; 4]) {
    let gpu = gpu().expect("checked by caller");
    let b_host = b.host(&[k, n], &b.values);
    let weights = integer_weights(&b_host, Some(&b.zero_point_tensor())).unwrap();
    let w_gpu = GpuQ8Weights::upload(gpu, &weights).unwrap();
    let a_gpu = upload_host(&a.host(&[batch, m, k], &a.values));
    let a_zero_point = upload_host(&a.zero_point_tensor());
    let expand = |zero_points: &[i64], count: usize| match zero_points {
        [one] => vec![*one; count],
        many => many.to_vec(),
    };
    let (a_zero_points, b_zero_points) = (expand(&a.zero_points, m), expand(&b.zero_points, n));
    let want: Vec<i32> = (0..batch)
        .flat_map(|index| {
            reference_matmul_integer(&IntegerProduct {
                a: &a.values[index * m * k..][..m * k],
                b: &b.values,
                dims: [m, k, n],
                a_zero_points: &a_zero_points,
                b_zero_points: &b_zero_points,
            })
        })
        .map(|sum| i32::try_from(sum).unwrap())
        .collect();
    for path in [Dot4Path::Builtin, Dot4Path::Unpacked] {
        if path.check_supported(gpu).is_err() {
            continue;
        }
        let c = matmul_integer(gpu, &a_gpu, Some(&a_zero_point), &w_gpu, path).unwrap();
        assert_eq!(c.shape(), [batch, m, n], "{label}");
        let got = c.read::<i32>(gpu).unwrap();
        compare_exact(&format!("{label} {path:?}"), &got, &want).assert_passed();
    }
}

#[test]
fn matmul_integer_matches_the_reference_exactly() {
    if gpu().is_none() {
        return;
    }
    let mut rng = SeededRng::new(1312);
    let shapes = [[1, 1, 1, 1], [1, 5, 3, 7], [2, 3, 67, 5], [1, 65, 130, 66]];
    for (a_signed, b_signed) in [(false, true), (false, false), (true, true), (true, false)] {
        let zero_point_cases: [i64; 3] = if a_signed {
            [-128, 0, 127]
        } else {
            [0, 128, 255]
        };
        let b_zero_point_cases: [i64; 3] = if b_signed {
            [-128, 0, 127]
        } else {
            [0, 128, 255]
        };
        for (case, &[batch, m, k, n]) in shapes.iter().enumerate() {
            let a_zero = zero_point_cases[case % 3];
            let b_zero = b_zero_point_cases[(case + 1) % 3];
            let a = Operand::random(&mut rng, a_signed, batch * m * k, vec![a_zero]);
            let b = Operand::random(&mut rng, b_signed, k * n, vec![b_zero]);
            let label = format!("a signed {a_signed}, b signed {b_signed}, {batch}×{m}×{k}×{n}");
            check_matmul_integer(&label, &a, &b, [batch, m, k, n]);
        }
        // Per-row a and per-column b zero points, every extreme among them.
        let (m, k, n) = (6, 9, 5);
        let a_zeros = (0..m).map(|row| zero_point_cases[row % 3]).collect();
        let b_zeros = (0..n).map(|col| b_zero_point_cases[col % 3]).collect();
        let a = Operand::random(&mut rng, a_signed, 2 * m * k, a_zeros);
        let b = Operand::random(&mut rng, b_signed, k * n, b_zeros);
        check_matmul_integer("per row and column", &a, &b, [2, m, k, n]);
    }
}

#[test]
fn matmul_integer_rejects_bad_zero_points() {
    let Some(gpu) = gpu() else {
        return;
    };
    let b = HostTensor::new(&[3, 2], TensorData::I8(vec![1; 6])).unwrap();
    let three = HostTensor::new(&[3], TensorData::I8(vec![0; 3])).unwrap();
    assert!(
        integer_weights(&b, Some(&three)).is_err(),
        "3 zero points for N = 2"
    );
    let unsigned = HostTensor::new(&[], TensorData::U8(vec![0])).unwrap();
    assert!(
        integer_weights(&b, Some(&unsigned)).is_err(),
        "u8 zero point for i8 B"
    );
    let w = GpuQ8Weights::upload(gpu, &integer_weights(&b, None).unwrap()).unwrap();
    let a = GpuTensor::upload(gpu, &[2, 3], &[1i8; 6]).unwrap();
    let four = GpuTensor::upload(gpu, &[4], &[0i8; 4]).unwrap();
    let path = Dot4Path::preferred(gpu);
    assert!(
        matmul_integer(gpu, &a, Some(&four), &w, path).is_err(),
        "4 for M = 2"
    );
}
