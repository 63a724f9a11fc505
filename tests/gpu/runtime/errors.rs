//! What a Plan reports for bad inputs and for what the GPU backend lacks.

use kiln::graph::{CompareOp, Graph, Op};
use kiln::ops::elementwise::BinaryOp;
use kiln::runtime::{Backend, Plan};
use kiln::tensor::{DType, HostTensor, TensorData};
use kiln::Error;

use super::builder::{random_input, Builder};
use crate::common::gpu;

/// y = x + x over `dtype` [2, 3].
fn add(dtype: DType) -> Graph {
    let mut b = Builder::new(4);
    b.input("x", dtype, &[2, 3])
        .node("twice", Op::Binary(BinaryOp::Add), &["x", "x"], &["y"])
        .output("y");
    b.graph
}

fn detail(error: &Error) -> String {
    error.to_string()
}

#[test]
fn wrong_input_names_shapes_and_dtypes_are_clear_errors() {
    let shapes = [("x".to_string(), vec![2, 3])];
    let mut plan = Plan::new(&add(DType::F32), &shapes, Backend::Cpu).unwrap();
    let good = random_input(1, &[2, 3]);
    let named = |name: &str, tensor: &HostTensor| vec![(name.to_string(), tensor.clone())];

    let error = plan.run(&named("image", &good)).unwrap_err();
    assert!(matches!(error, Error::InvalidArgument { .. }), "{error}");
    assert!(
        detail(&error).contains("'image' is not an input"),
        "{error}"
    );

    let error = plan
        .run(&named("x", &random_input(1, &[3, 2])))
        .unwrap_err();
    assert!(matches!(error, Error::ShapeMismatch { .. }), "{error}");
    assert!(detail(&error).contains("[3, 2]") && detail(&error).contains("[2, 3]"));

    let halves = HostTensor::zeros(&[2, 3], DType::F16).unwrap();
    let error = plan.run(&named("x", &halves)).unwrap_err();
    assert!(
        detail(&error).contains("'x' is f16, the graph declares f32"),
        "{error}"
    );

    let error = plan.run(&[]).unwrap_err();
    assert!(detail(&error).contains("'x' is missing"), "{error}");

    let mut twice = named("x", &good);
    twice.extend(named("x", &good));
    let error = plan.run(&twice).unwrap_err();
    assert!(detail(&error).contains("given twice"), "{error}");

    assert!(plan.run(&named("x", &good)).is_ok());
    assert!(plan.run_on_device(&named("x", &good)).is_err());
}

#[test]
fn a_dtype_without_a_gpu_kernel_is_unsupported_at_its_node() {
    let Some(gpu) = gpu() else { return };
    let shapes = [("x".to_string(), vec![2, 3])];
    let mut plan = Plan::new(&add(DType::I32), &shapes, Backend::Gpu(gpu)).unwrap();
    let ints = HostTensor::new(&[2, 3], kiln::tensor::TensorData::I32(vec![1; 6])).unwrap();
    let error = plan.run(&[("x".to_string(), ints)]).unwrap_err();
    let Error::Unsupported { location, detail } = &error else {
        panic!("expected Unsupported, got {error}");
    };
    assert!(location.contains("'twice'"), "{error}");
    assert!(detail.contains("i32"), "{error}");
}

#[test]
fn an_op_without_a_gpu_kernel_is_unsupported_at_its_node() {
    let Some(gpu) = gpu() else { return };
    let mut b = Builder::new(5);
    // The GPU compares f32 and i32 only; i8 comparisons run on the CPU backend alone.
    b.input("a", DType::I8, &[4])
        .input("b", DType::I8, &[4])
        .node("less", Op::Compare(CompareOp::Less), &["a", "b"], &["mask"])
        .output("mask");
    let shapes = [("a".to_string(), vec![4]), ("b".to_string(), vec![4])];
    let mut plan = Plan::new(&b.graph, &shapes, Backend::Gpu(gpu)).unwrap();
    let inputs = [
        ("a".to_string(), i8_input(&[1, -2, 3, -4])),
        ("b".to_string(), i8_input(&[0, 5, -6, 7])),
    ];
    let error = plan.run(&inputs).unwrap_err();
    assert!(
        matches!(&error, Error::Unsupported { location, .. } if location.contains("'less'")),
        "{error}"
    );
}

#[test]
fn a_kernel_parameter_computed_at_run_time_is_unsupported_on_the_gpu() {
    let Some(gpu) = gpu() else { return };
    let mut b = Builder::new(6);
    b.input("x", DType::F32, &[4])
        .input("low", DType::F32, &[])
        .node("clip", Op::Clip, &["x", "low"], &["y"])
        .output("y");
    let shapes = [("x".to_string(), vec![4]), ("low".to_string(), vec![])];
    let error = Plan::new(&b.graph, &shapes, Backend::Gpu(gpu))
        .err()
        .expect("a dynamic Clip bound cannot run on the GPU");
    let Error::Unsupported { location, detail } = &error else {
        panic!("expected Unsupported, got {error}");
    };
    assert!(
        location.contains("'clip'") && detail.contains("dynamic"),
        "{error}"
    );
    assert!(Plan::new(&b.graph, &shapes, Backend::Cpu).is_ok());
}

#[test]
fn a_huge_expand_is_an_error_at_its_node_before_anything_is_built() {
    let Some(gpu) = gpu() else { return };
    let mut b = Builder::new(7);
    b.input("x", DType::F32, &[1, 1, 4, 4])
        .ints("target", &[1, 1 << 40, 4, 4])
        .node("grow", Op::Expand, &["x", "target"], &["y"])
        .output("y");
    let shapes = [("x".to_string(), vec![1, 1, 4, 4])];
    let started = std::time::Instant::now();
    let error = Plan::new(&b.graph, &shapes, Backend::Gpu(gpu))
        .and_then(|mut plan| plan.run(&[("x".to_string(), random_input(1, &[1, 1, 4, 4]))]))
        .expect_err("a 2^44-element Expand cannot run");
    let message = error.to_string();
    assert!(message.contains("'grow'"), "{message}");
    assert!(
        started.elapsed().as_secs() < 10,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn a_run_time_gather_index_out_of_range_fails_as_on_the_cpu() {
    let Some(gpu) = gpu() else { return };
    let mut b = Builder::new(8);
    b.input("x", DType::F32, &[2, 3])
        .input("rows", DType::I32, &[4])
        .node("pick", Op::Gather { axis: 0 }, &["x", "rows"], &["y"])
        .output("y");
    let shapes = [("x".to_string(), vec![2, 3]), ("rows".to_string(), vec![4])];
    let run = |backend: Backend<'_>, rows: Vec<i32>| {
        let inputs = [
            ("x".to_string(), random_input(2, &[2, 3])),
            (
                "rows".to_string(),
                HostTensor::new(&[4], TensorData::I32(rows)).unwrap(),
            ),
        ];
        Plan::new(&b.graph, &shapes, backend).and_then(|mut plan| plan.run(&inputs))
    };
    let good = vec![1, -1, 0, -2];
    assert_eq!(
        run(Backend::Gpu(gpu), good.clone()).unwrap(),
        run(Backend::Cpu, good).unwrap()
    );
    let bad = vec![0, 1, 5, -7];
    let want = run(Backend::Cpu, bad.clone()).unwrap_err().to_string();
    let got = run(Backend::Gpu(gpu), bad).unwrap_err().to_string();
    assert!(
        want.contains("'pick'") && want.contains("index 5"),
        "{want}"
    );
    assert_eq!(got, want);
}

fn i8_input(values: &[i8]) -> HostTensor {
    HostTensor::new(&[values.len()], TensorData::I8(values.to_vec())).unwrap()
}
