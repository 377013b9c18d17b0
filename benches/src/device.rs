//! Where tensors live: the one parser of device names for configs and the command line, and how
//! stage keys name a device.

use candle_core::Device;

use crate::error::{HarnessError, Result};

/// The device names a config or a `--device` flag may give.
pub const DEVICES: [&str; 3] = ["cpu", "cuda", "auto"];

/// The device `name` names: `cpu`, `cuda` (the first GPU; an error without one) or `auto` (the
/// first GPU when there is one, else the CPU).
pub fn device(name: &str) -> Result<Device> {
    match name {
        "cpu" => Ok(Device::Cpu),
        "cuda" => Device::new_cuda(0).map_err(|e| HarnessError::Invalid {
            what: "device".into(),
            value: "cuda".into(),
            expected: format!("a CUDA GPU and a build with `--features cuda` ({e})"),
        }),
        "auto" => Ok(Device::cuda_if_available(0).unwrap_or(Device::Cpu)),
        other => Err(HarnessError::Invalid {
            what: "device".into(),
            value: other.into(),
            expected: DEVICES.join(", "),
        }),
    }
}

/// A device as stage keys name it: `None` for the CPU (whose keys predate devices in keys).
pub fn device_key(device: &Device) -> Option<&'static str> {
    if device.is_cpu() { None } else { Some("cuda") }
}

/// A device as `meta.json` names it.
pub fn device_name(device: &Device) -> &'static str {
    if device.is_cpu() { "cpu" } else { "cuda:0" }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_parse_and_a_bad_one_is_named() {
        assert!(device("cpu").unwrap().is_cpu());
        let e = device("tpu").unwrap_err().to_string();
        assert!(e.contains("tpu") && e.contains("cpu, cuda, auto"), "{e}");
        assert_eq!(device_key(&Device::Cpu), None);
        assert_eq!(device_name(&Device::Cpu), "cpu");
    }
}
