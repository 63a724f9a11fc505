//! Which backends a benchmark runs on: `--backend` as a comma list of `auto`, `vulkan`, `metal`,
//! `dx12`, `gl`, `cpu` (kiln's CPU references) or `all` (every adapter on every API, then `cpu`).

use crate::device::{list_adapters, BackendChoice, GpuOptions};
use crate::error::{Error, Result};

/// One backend to benchmark.
#[derive(Clone, Debug)]
pub enum BenchTarget {
    /// A GPU adapter, opened with these options.
    Gpu(GpuOptions),
    /// kiln's CPU references on the host.
    Cpu,
}

impl PartialEq for BenchTarget {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (BenchTarget::Cpu, BenchTarget::Cpu) => true,
            (BenchTarget::Gpu(a), BenchTarget::Gpu(b)) => {
                a.backend == b.backend && a.adapter == b.adapter
            }
            _ => false,
        }
    }
}

impl std::fmt::Display for BenchTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BenchTarget::Cpu => f.write_str("cpu"),
            BenchTarget::Gpu(options) => match &options.adapter {
                Some(adapter) => write!(f, "{} adapter {adapter}", options.backend),
                None => write!(f, "{}", options.backend),
            },
        }
    }
}

/// Every adapter on every API (each by its enumeration index), narrowed to names containing
/// `adapter` when given.
fn every_adapter(adapter: Option<&str>) -> Vec<BenchTarget> {
    let wanted = adapter.map(|name| name.trim().to_ascii_lowercase());
    let apis = [
        BackendChoice::Vulkan,
        BackendChoice::Metal,
        BackendChoice::Dx12,
        BackendChoice::Gl,
    ];
    apis.into_iter()
        .flat_map(|api| {
            list_adapters(api)
                .into_iter()
                .map(move |report| (api, report))
        })
        .filter(|(_, report)| {
            wanted
                .as_deref()
                .is_none_or(|name| report.info.name.to_ascii_lowercase().contains(name))
        })
        .map(|(api, report)| {
            BenchTarget::Gpu(GpuOptions {
                backend: api,
                adapter: Some(report.index.to_string()),
            })
        })
        .collect()
}

/// Parses `--backend` (see the module documentation); `adapter` is `--adapter`, applied to every
/// GPU backend named. An unknown name is an [`Error::InvalidArgument`]; repeats run once.
pub fn parse_targets(text: &str, adapter: Option<&str>) -> Result<Vec<BenchTarget>> {
    let mut targets: Vec<BenchTarget> = Vec::new();
    for item in text
        .split(',')
        .map(str::trim)
        .filter(|item| !item.is_empty())
    {
        let named = match item.to_ascii_lowercase().as_str() {
            "cpu" => vec![BenchTarget::Cpu],
            "all" => {
                let mut all = every_adapter(adapter);
                all.push(BenchTarget::Cpu);
                all
            }
            _ => vec![BenchTarget::Gpu(GpuOptions {
                backend: item.parse().map_err(|_| Error::InvalidArgument {
                    op: "--backend",
                    detail: format!(
                        "unknown backend '{item}': kiln bench takes a comma list of auto, vulkan, \
                         metal, dx12, gl and cpu, or all"
                    ),
                })?,
                adapter: adapter.map(String::from),
            })],
        };
        for target in named {
            if !targets.contains(&target) {
                targets.push(target);
            }
        }
    }
    if targets.is_empty() {
        targets.push(BenchTarget::Gpu(GpuOptions {
            backend: BackendChoice::Auto,
            adapter: adapter.map(String::from),
        }));
    }
    Ok(targets)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_parse_in_order_without_repeats() {
        let targets = parse_targets("vulkan, cpu,gl,cpu", Some("llvm")).unwrap();
        let gpu = |backend| {
            BenchTarget::Gpu(GpuOptions {
                backend,
                adapter: Some("llvm".into()),
            })
        };
        assert_eq!(
            targets,
            vec![
                gpu(BackendChoice::Vulkan),
                BenchTarget::Cpu,
                gpu(BackendChoice::Gl)
            ]
        );
    }

    #[test]
    fn empty_text_means_auto_and_unknown_names_fail() {
        assert_eq!(
            parse_targets("", None).unwrap(),
            vec![BenchTarget::Gpu(GpuOptions::default())]
        );
        assert!(matches!(
            parse_targets("vulkan,cuda", None),
            Err(Error::InvalidArgument { detail, .. }) if detail.contains("'cuda'")
        ));
    }
}
