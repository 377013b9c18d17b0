//! Prints every model's parameter count at a preset: `cargo run -p moravec-agents --example params -- small 64 2`.

use candle_core::Device;
use moravec_agents::models::{MODELS, ModelConfig, ModelVars};

fn main() -> anyhow::Result<()> {
    let a: Vec<String> = std::env::args().collect();
    let preset = a.get(1).map(String::as_str).unwrap_or("small");
    let size: usize = a.get(2).map(|s| s.parse()).transpose()?.unwrap_or(64);
    let actions: usize = a.get(3).map(|s| s.parse()).transpose()?.unwrap_or(2);
    let config = ModelConfig::preset(preset, size, actions)?;
    for spec in MODELS {
        let vars = ModelVars::new(spec.name, &config, &Device::Cpu)?;
        println!("{:12} {:>9} parameters", spec.name, vars.parameters());
    }
    Ok(())
}
