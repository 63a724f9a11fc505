//! kiln's integer graphs back to standard ONNX, run by onnxruntime: each model quantized by
//! onnxruntime is lowered by kiln (its convs become QLinearConv, its pools and moves run on the
//! quantized values), exported (`to_onnx_bytes`: every integer op goes out as DequantizeLinear →
//! op → QuantizeLinear) and run by onnxruntime, against kiln's own integer run of the lowered
//! graph and against onnxruntime's run of the original file.

use kiln::device::Gpu;
use kiln::graph::passes::{optimize_with, PassOptions};
use kiln::graph::Op;
use kiln::import::onnx::load_onnx;
use kiln::io::npy::read_npy;
use kiln::runtime::Backend;

use crate::common::run_lowered;
use crate::onnxruntime_models::{manifest, models_dir};
use crate::onnxruntime_runner::{run_kiln_export, WorkDir};
use crate::steps::{max_steps, requantization_depth};

#[test]
fn onnxruntime_runs_kilns_integer_graphs_exported_as_qdq() {
    let Some(dir) = models_dir() else {
        return;
    };
    let gpu = Gpu::from_env().expect("a GPU adapter (lavapipe in CI)");
    let work = WorkDir::new("integer-export");
    let mut checked = 0;
    for entry in manifest(&dir)
        .iter()
        .filter(|entry| entry.output_step > 0.0)
    {
        let graph = load_onnx(&dir.join(format!("{}.onnx", entry.name))).expect("the model loads");
        let input = read_npy(&dir.join(format!("{}.input.npy", entry.name))).unwrap();
        let shapes = [(entry.input.clone(), input.shape().to_vec())];
        let mut lowered = graph.clone();
        optimize_with(&mut lowered, &shapes, &PassOptions { lower_qdq: true }).unwrap();
        let integer_convs = (lowered.nodes.iter())
            .filter(|node| matches!(node.op, Op::QLinearConv(_)))
            .count();
        assert_eq!(
            integer_convs, entry.convs,
            "{}: every conv lowered",
            entry.name
        );
        let inputs = [(entry.input.clone(), input)];
        let onnxruntime_export = run_kiln_export(&lowered, &work.0, &entry.name, &inputs);
        let onnxruntime_source = read_npy(&dir.join(format!("{}.output.npy", entry.name))).unwrap();
        let (kiln_integer, _) = run_lowered(&graph, &inputs, Backend::Gpu(&gpu));
        let step = entry.output_step;
        let versus_kiln = max_steps(&onnxruntime_export[0], &kiln_integer[0], step);
        let versus_source = max_steps(&onnxruntime_export[0], &onnxruntime_source, step);
        // As in `onnxruntime_quantized_models_run_in_integers_and_agree`: two engines may round a
        // value near a half step apart at each requantization on its path.
        let bound = requantization_depth(&graph) as f64;
        eprintln!(
            "{}: onnxruntime on kiln's export vs kiln's integer run {versus_kiln} steps, vs \
             onnxruntime on the source file {versus_source} steps (bound {bound})",
            entry.name
        );
        assert!(
            versus_kiln <= bound,
            "{}: {versus_kiln} > {bound}",
            entry.name
        );
        // Against its own run of the source file onnxruntime sees the same QDQ patterns around
        // the same integers and fuses them into the same kernels: the one step covers a
        // pattern it might fuse differently (measured: 0 steps on every model).
        assert!(
            versus_source <= 1.0,
            "{}: {versus_source} steps",
            entry.name
        );
        checked += 1;
    }
    assert_eq!(checked, 8, "two CNNs × per-tensor/per-channel × uint8/int8");
}
