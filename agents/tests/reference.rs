//! VICReg and the EMA update against values computed independently with numpy
//! (`tests/fixtures/reference.py`, which wrote `reference.json`).

use candle_core::{Device, Tensor, Var};
use moravec_agents::{ema, vicreg};
use serde_json::Value;

fn fixture() -> Value {
    let text = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/fixtures/reference.json"
    ))
    .unwrap();
    serde_json::from_str(&text).unwrap()
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|x| x.as_f64().unwrap() as f32)
        .collect()
}

fn close(got: f32, want: f64, what: &str) {
    let tol = 1e-4 * want.abs().max(1.0);
    assert!(
        (got as f64 - want).abs() < tol,
        "{what}: got {got}, numpy says {want}"
    );
}

#[test]
fn vicreg_matches_the_numpy_reference() {
    let fx = fixture();
    for case in fx["vicreg"].as_array().unwrap() {
        let (n, d) = (
            case["n"].as_u64().unwrap() as usize,
            case["d"].as_u64().unwrap() as usize,
        );
        let x = Tensor::from_vec(floats(&case["x"]), (n, d), &Device::Cpu).unwrap();
        let y = Tensor::from_vec(floats(&case["y"]), (n, d), &Device::Cpu).unwrap();
        let t = vicreg::vicreg(&x, &y).unwrap();
        for (name, tensor) in [
            ("invariance", &t.invariance),
            ("variance", &t.variance),
            ("covariance", &t.covariance),
            ("total", &t.total),
        ] {
            close(
                tensor.to_scalar::<f32>().unwrap(),
                case[name].as_f64().unwrap(),
                &format!("{name} (n={n}, d={d})"),
            );
        }
    }
}

#[test]
fn ema_matches_the_numpy_reference() {
    let fx = &fixture()["ema"];
    let online = Var::from_vec(floats(&fx["online"]), 6, &Device::Cpu).unwrap();
    let target = Var::from_vec(floats(&fx["target"]), 6, &Device::Cpu).unwrap();
    let total = fx["total_steps"].as_u64().unwrap();
    for (step, after) in fx["after"].as_array().unwrap().iter().enumerate() {
        let m = ema::momentum(step as u64, total);
        ema::update(
            std::slice::from_ref(&target),
            std::slice::from_ref(&online),
            m,
        )
        .unwrap();
        let got: Vec<f32> = target.as_tensor().to_vec1().unwrap();
        for (g, w) in got.iter().zip(floats(after)) {
            close(*g, w as f64, &format!("EMA step {step}"));
        }
    }
    assert_eq!(ema::momentum(0, 10), 0.996);
    assert_eq!(ema::momentum(10, 10), 1.0);
}
