//! QLinearAdd / QLinearMul, requantization and the lookup table against their references, bit
//! for bit: broadcast and odd shapes (not whole words of four), int8 and uint8 on each side, zero
//! points at the ends and middle of each range, scales from 1e-6 to 1e2, saturation.

use kiln::check::SeededRng;
use kiln::ops::quantized_elementwise::{
    lookup_table, qlinear_binary, reference_lookup_table, reference_qlinear_binary,
    reference_requantize, requantize, QLinearBinaryOp, QuantizedOperand, TensorQuantization,
};
use kiln::tensor::{DType, GpuTensor};

use crate::common::gpu;

/// `values` (in `dtype`'s range) uploaded as an int8 or uint8 tensor.
fn upload(values: &[i32], shape: &[usize], dtype: DType) -> GpuTensor {
    let gpu = gpu().expect("checked by caller");
    match dtype {
        DType::I8 => {
            let bytes: Vec<i8> = values.iter().map(|&v| v as i8).collect();
            GpuTensor::upload(gpu, shape, &bytes).unwrap()
        }
        _ => {
            let bytes: Vec<u8> = values.iter().map(|&v| v as u8).collect();
            GpuTensor::upload(gpu, shape, &bytes).unwrap()
        }
    }
}

/// An int8 or uint8 tensor read back as i32.
fn download(tensor: &GpuTensor) -> Vec<i32> {
    let gpu = gpu().expect("checked by caller");
    match tensor.dtype() {
        DType::I8 => (tensor.read::<i8>(gpu).unwrap().into_iter())
            .map(i32::from)
            .collect(),
        _ => (tensor.read::<u8>(gpu).unwrap().into_iter())
            .map(i32::from)
            .collect(),
    }
}

fn random_values(rng: &mut SeededRng, count: usize, dtype: DType) -> Vec<i32> {
    match dtype {
        DType::I8 => rng.int_vec(count, -128, 127),
        _ => rng.int_vec(count, 0, 255),
    }
}

/// The zero points each dtype is tested with: its ends and middle.
fn zero_points(dtype: DType) -> [i32; 3] {
    if dtype == DType::I8 {
        [-128, 0, 127]
    } else {
        [0, 128, 255]
    }
}

/// `(a shape, b shape)` pairs: equal, broadcast both ways, scalar, odd sizes.
const SHAPES: [(&[usize], &[usize]); 5] = [
    (&[7], &[7]),
    (&[2, 3, 5], &[3, 1]),
    (&[1, 13], &[3, 1]),
    (&[], &[2, 2, 3]),
    (&[4, 1, 9], &[1, 6, 1]),
];

/// `(a, b, y)` scales: ratios near 1, tiny, large (saturating), mixed.
const SCALES: [[f32; 3]; 4] = [
    [0.02, 0.03, 0.05],
    [1e-6, 3e-6, 2e-6],
    [1e2, 1e-2, 1e2],
    [1e-3, 1e2, 0.7],
];

fn quant(scale: f32, zero_point: i32, dtype: DType) -> TensorQuantization {
    TensorQuantization {
        scale,
        zero_point,
        dtype,
    }
}

#[test]
fn qlinear_add_and_mul_match_the_reference_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(41);
    let dtypes = [
        [DType::I8; 3],
        [DType::U8; 3],
        [DType::I8, DType::U8, DType::I8],
    ];
    for (case, (a_shape, b_shape)) in SHAPES.into_iter().enumerate() {
        for [a_dtype, b_dtype, y_dtype] in dtypes {
            for op in [QLinearBinaryOp::Add, QLinearBinaryOp::Mul] {
                let scales = SCALES[(case + op as usize) % SCALES.len()];
                let zero = |dtype, index: usize| zero_points(dtype)[(case + index) % 3];
                let a_quant = quant(scales[0], zero(a_dtype, 0), a_dtype);
                let b_quant = quant(scales[1], zero(b_dtype, 1), b_dtype);
                let y_quant = quant(scales[2], zero(y_dtype, 2), y_dtype);
                let a = random_values(&mut rng, a_shape.iter().product(), a_dtype);
                let b = random_values(&mut rng, b_shape.iter().product(), b_dtype);
                let operand = |values, shape, quantization| QuantizedOperand {
                    values,
                    shape,
                    quantization,
                };
                let (want, shape) = reference_qlinear_binary(
                    op,
                    &operand(&a, a_shape, a_quant),
                    &operand(&b, b_shape, b_quant),
                    &y_quant,
                )
                .unwrap();
                let (a_gpu, b_gpu) = (upload(&a, a_shape, a_dtype), upload(&b, b_shape, b_dtype));
                let got = qlinear_binary(gpu, op, (&a_gpu, &a_quant), (&b_gpu, &b_quant), &y_quant)
                    .unwrap();
                assert_eq!(got.shape(), shape.as_slice());
                assert_eq!(
                    download(&got),
                    want,
                    "{op:?} {a_shape:?}×{b_shape:?} {a_quant:?} {b_quant:?} {y_quant:?}"
                );
            }
        }
    }
}

#[test]
fn requantize_matches_the_reference_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(42);
    for (x_dtype, y_dtype) in [
        (DType::I8, DType::I8),
        (DType::U8, DType::U8),
        (DType::U8, DType::I8),
    ] {
        for (index, scales) in SCALES.into_iter().enumerate() {
            for count in [1, 5, 258] {
                let x_quant = quant(scales[0], zero_points(x_dtype)[index % 3], x_dtype);
                let y_quant = quant(scales[2], zero_points(y_dtype)[(index + 1) % 3], y_dtype);
                let x = random_values(&mut rng, count, x_dtype);
                let operand = QuantizedOperand {
                    values: &x,
                    shape: &[count],
                    quantization: x_quant,
                };
                let want = reference_requantize(&operand, &y_quant).unwrap();
                let got = requantize(gpu, &upload(&x, &[count], x_dtype), &x_quant, &y_quant);
                assert_eq!(download(&got.unwrap()), want, "{x_quant:?} → {y_quant:?}");
            }
        }
    }
}

#[test]
fn lookup_table_matches_the_reference_exactly() {
    let Some(gpu) = gpu() else { return };
    let mut rng = SeededRng::new(43);
    for x_dtype in [DType::I8, DType::U8] {
        for table_dtype in [DType::I8, DType::U8] {
            let table = random_values(&mut rng, 256, table_dtype);
            let table_gpu = upload(&table, &[256], table_dtype);
            for shape in [&[1][..], &[3, 1], &[2, 129], &[256]] {
                let count = shape.iter().product();
                let x = if count == 256 {
                    let (low, _) =
                        kiln::ops::quantized_elementwise::quantized_range("t", x_dtype).unwrap();
                    (low..low + 256).collect()
                } else {
                    random_values(&mut rng, count, x_dtype)
                };
                let want = reference_lookup_table(&x, x_dtype, &table).unwrap();
                let got = lookup_table(gpu, &upload(&x, shape, x_dtype), &table_gpu).unwrap();
                assert_eq!((got.shape(), got.dtype()), (shape, table_dtype));
                assert_eq!(download(&got), want, "{x_dtype} → {table_dtype} {shape:?}");
            }
        }
    }
}

#[test]
fn bad_operands_are_errors() {
    let Some(gpu) = gpu() else { return };
    let x = upload(&[1, 2, 3], &[3], DType::I8);
    let good = quant(0.1, 0, DType::I8);
    let add = QLinearBinaryOp::Add;
    for bad in [
        quant(0.0, 0, DType::I8),
        quant(-1.0, 0, DType::I8),
        quant(0.1, 0, DType::U8),
    ] {
        assert!(qlinear_binary(gpu, add, (&x, &bad), (&x, &good), &good).is_err());
        assert!(requantize(gpu, &x, &bad, &good).is_err());
    }
    let other = upload(&[1, 2], &[2], DType::I8);
    assert!(qlinear_binary(gpu, add, (&x, &good), (&other, &good), &good).is_err());
    assert!(lookup_table(gpu, &x, &other).is_err());
}
