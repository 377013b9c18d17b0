//! Prints, for a few sets of every property and condition, the violation frame, occlusion
//! length and object share: `cargo run --release -p moravec-sim --example voe_stats`.

use moravec_sim::voe::{PROPERTIES, SetRequest, generate_set, set_seed};

fn main() {
    let n: u64 = std::env::args()
        .nth(1)
        .and_then(|a| a.parse().ok())
        .unwrap_or(6);
    for spec in PROPERTIES {
        for &condition in spec.conditions {
            let start = std::time::Instant::now();
            let mut rows = Vec::new();
            for index in 0..n {
                let req = SetRequest {
                    property: spec.property,
                    condition,
                    seed: set_seed(0, spec.property, condition, index),
                    index,
                    frames: 64,
                    size: 64,
                };
                match generate_set(&req) {
                    Ok(s) => rows.push(format!(
                        "v{} h{} {:.1}%",
                        s.violation_frame,
                        s.occlusion_frames,
                        100.0 * s.object_share
                    )),
                    Err(e) => rows.push(format!("ERR {e}")),
                }
            }
            println!(
                "{:16} {:9} {:6.2}s  {}",
                spec.property.as_str(),
                condition.as_str(),
                start.elapsed().as_secs_f64(),
                rows.join(" | ")
            );
        }
    }
}
