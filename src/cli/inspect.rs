//! `kiln inspect MODEL`: every node's weights with their precision, layout, shape and bytes, and
//! the totals, for `.onnx`, `.kiln` and Darknet `.cfg` alike; for `.kiln` also the provenance;
//! for a QDQ model also which nodes run in integers after the passes, and why the others do not.

use std::path::PathBuf;
use std::process::ExitCode;

use kiln::format::{inspect::format_table, load_kiln};
use kiln::graph::passes::{
    arithmetic_table, border_conversions, node_arithmetic, optimize_with, PassOptions,
};
use kiln::graph::Graph;
use kiln::import::{load_model, ModelKind};

/// Arguments of `kiln inspect`.
#[derive(clap::Args)]
pub struct InspectArgs {
    /// The model: `.onnx`, `.kiln` or a Darknet `.cfg`.
    pub model: PathBuf,
}

/// Runs `kiln inspect`.
pub fn execute(args: InspectArgs) -> kiln::Result<ExitCode> {
    let graph = if ModelKind::of(&args.model)? == ModelKind::Kiln {
        let model = load_kiln(&args.model)?;
        let provenance = &model.provenance;
        println!(
            ".kiln format version {}, written by kiln {}",
            model.format_version, provenance.kiln_version
        );
        println!(
            "source: {} (sha256 {})",
            provenance.source_file.as_deref().unwrap_or("none"),
            provenance.source_sha256.as_deref().unwrap_or("none")
        );
        println!("recipe: {}\n", provenance.recipe);
        model.graph
    } else {
        load_model(&args.model)?
    };
    println!(
        "model '{}': {} nodes, {} inputs, {} outputs\n",
        graph.name,
        graph.nodes.len(),
        graph.inputs.len(),
        graph.outputs.len()
    );
    print!("{}", format_table(&graph));
    if kiln::bench::qdq::has_qdq(&graph) {
        print_arithmetic(&graph);
    }
    Ok(ExitCode::SUCCESS)
}

/// Prints, per node of `graph` after the passes (at its declared input shapes), whether it runs
/// in integers, converts, or runs in float and why; a graph the passes cannot optimise at its
/// declared shapes gets a note instead.
fn print_arithmetic(graph: &Graph) {
    let mut optimized = graph.clone();
    match optimize_with(&mut optimized, &[], &PassOptions::default()) {
        Ok((_, lowering)) => {
            println!("\nafter the passes (QDQ lowering on): where each node computes\n");
            print!(
                "{}",
                arithmetic_table(&node_arithmetic(&optimized, &lowering))
            );
            for broken in border_conversions(&optimized) {
                println!("border: {broken}");
            }
        }
        Err(error) => println!("\nQDQ lowering not shown: the passes failed: {error}"),
    }
}
