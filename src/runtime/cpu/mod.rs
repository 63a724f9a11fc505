//! The CPU reference backend: [`eval_node`] computes one node on host tensors (the IR's meaning,
//! defined in [`crate::graph::eval`] and re-exported here), [`run_graph`] runs a whole graph in
//! node order through the runtime's one executor.
//!
//! ```
//! use kiln::graph::{Node, Op};
//! use kiln::ops::elementwise::BinaryOp;
//! use kiln::tensor::HostTensor;
//! let node = Node {
//!     name: "add".into(),
//!     op: Op::Binary(BinaryOp::Add),
//!     inputs: vec![Some("a".into()), Some("b".into())],
//!     outputs: vec!["y".into()],
//! };
//! let a = HostTensor::from_f32(&[2], vec![1.0, 2.0])?;
//! let b = HostTensor::from_f32(&[], vec![10.0])?;
//! let y = kiln::runtime::cpu::eval_node(&node, &[Some(&a), Some(&b)])?;
//! assert_eq!(y[0].as_f32(), Some(&[11.0, 12.0][..]));
//! # Ok::<(), kiln::Error>(())
//! ```

mod run;

pub use crate::graph::eval::eval_node;
pub use run::run_graph;
