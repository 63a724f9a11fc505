//! Building small graphs in code for the runtime tests: values, nodes, seeded initializers.

use kiln::check::SeededRng;
use kiln::graph::{AutoPad, ConvAttrs, Dim, Graph, Node, Op, PoolAttrs, ValueInfo};
use kiln::ops::Activation;
use kiln::tensor::{DType, HostTensor};

use crate::common::random_values;

/// A graph assembled node by node.
pub struct Builder {
    pub graph: Graph,
    rng: SeededRng,
}

impl Builder {
    pub fn new(seed: u64) -> Self {
        Builder {
            graph: Graph {
                name: "test".into(),
                ..Graph::default()
            },
            rng: SeededRng::new(seed),
        }
    }

    /// Declares a graph input of fixed `shape`.
    pub fn input(&mut self, name: &str, dtype: DType, shape: &[usize]) -> &mut Self {
        self.graph.inputs.push(ValueInfo {
            name: name.into(),
            dtype: Some(dtype),
            shape: Some(shape.iter().map(|&dim| Dim::Fixed(dim)).collect()),
        });
        self
    }

    /// Declares `name` a graph output.
    pub fn output(&mut self, name: &str) -> &mut Self {
        self.graph.outputs.push(ValueInfo {
            name: name.into(),
            dtype: None,
            shape: None,
        });
        self
    }

    /// Adds a node; an empty input name is an omitted optional input.
    pub fn node(&mut self, name: &str, op: Op, inputs: &[&str], outputs: &[&str]) -> &mut Self {
        self.graph.nodes.push(Node {
            name: name.into(),
            op,
            inputs: inputs
                .iter()
                .map(|&input| (!input.is_empty()).then(|| input.to_string()))
                .collect(),
            outputs: outputs.iter().map(|&output| output.to_string()).collect(),
        });
        self
    }

    /// Adds a node whose one output, named like the node, is also a graph output.
    pub fn probe(&mut self, name: &str, op: Op, inputs: &[&str]) -> &mut Self {
        self.node(name, op, inputs, &[name]).output(name)
    }

    /// Adds an initializer.
    pub fn constant(&mut self, name: &str, tensor: HostTensor) -> &mut Self {
        self.graph.initializers.insert(name.into(), tensor);
        self
    }

    /// Adds an i64 initializer (shapes, axes, pads).
    pub fn ints(&mut self, name: &str, values: &[i64]) -> &mut Self {
        let tensor = HostTensor::from_i64(&[values.len()], values.to_vec()).unwrap();
        self.constant(name, tensor)
    }

    /// Adds an f32 initializer of seeded values in `[-scale, scale)`.
    pub fn weight(&mut self, name: &str, shape: &[usize], scale: f32) -> &mut Self {
        let count = shape.iter().product();
        let values = random_values(&mut self.rng, count)
            .into_iter()
            .map(|value| value * scale)
            .collect();
        self.constant(name, HostTensor::from_f32(shape, values).unwrap())
    }

    /// Adds an f32 initializer of seeded values in `[low, high)`.
    pub fn uniform(&mut self, name: &str, shape: &[usize], low: f32, high: f32) -> &mut Self {
        let values = self.rng.uniform_vec(shape.iter().product(), low, high);
        self.constant(name, HostTensor::from_f32(shape, values).unwrap())
    }
}

/// Seeded f32 input values in [-1, 1).
pub fn random_input(seed: u64, shape: &[usize]) -> HostTensor {
    let values = random_values(&mut SeededRng::new(seed), shape.iter().product());
    HostTensor::from_f32(shape, values).unwrap()
}

/// Conv attributes: `kernel`×`kernel`, stride 1, `pad` on every side, `group` groups.
pub fn conv(kernel: usize, pad: usize, group: usize, auto_pad: AutoPad) -> Op {
    Op::Conv(ConvAttrs {
        kernel_shape: vec![kernel, kernel],
        strides: vec![1, 1],
        pads: vec![pad; 4],
        dilations: vec![1, 1],
        group,
        auto_pad,
        activation: Activation::Identity,
    })
}

/// MaxPool `size`×`size` with stride `size`.
pub fn max_pool(size: usize) -> Op {
    Op::MaxPool(PoolAttrs {
        kernel_shape: vec![size, size],
        strides: vec![size, size],
        pads: vec![0; 4],
        dilations: vec![1, 1],
        ceil_mode: false,
        count_include_pad: false,
        auto_pad: AutoPad::NotSet,
    })
}
