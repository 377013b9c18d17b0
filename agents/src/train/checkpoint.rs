//! Checkpoints: one safetensors file with the weights (`param/<name>`), AdamW's moments
//! (`adam_m/<name>`, `adam_v/<name>`), and in its metadata a typed header: the model name, its
//! config, the training config and the step. The data order needs no state of its own (batches
//! are drawn from (seed, step)), so these are all a resumed run needs to continue bit for bit,
//! and all a tool needs to rebuild the model ([`load`]) without an optimiser or a dataset.

use std::collections::HashMap;
use std::path::Path;

use candle_core::{Device, Tensor};
use safetensors::{Dtype, SafeTensors, tensor::TensorView};
use serde::{Deserialize, Serialize};

use super::AdamW;
use super::config::TrainConfig;
use crate::error::{AgentError, Result};
use crate::models::{self, ModelConfig, ModelVars};

/// Version of the checkpoint layout.
pub const SCHEMA: u32 = 1;

/// What a checkpoint says about itself.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckpointHeader {
    /// Layout version.
    pub schema: u32,
    /// Model registry name.
    pub model: String,
    /// The model's architecture.
    pub config: ModelConfig,
    /// The training config.
    pub train: TrainConfig,
    /// Optimiser steps taken.
    pub step: u64,
}

fn bytes(t: &Tensor) -> Result<Vec<u8>> {
    let v: Vec<f32> = t.flatten_all()?.to_vec1()?;
    Ok(v.iter().flat_map(|x| x.to_le_bytes()).collect())
}

/// Writes the checkpoint atomically (temporary file, then rename).
pub fn save(path: &Path, header: &CheckpointHeader, opt: &AdamW) -> Result<()> {
    let mut owned: Vec<(String, Vec<usize>, Vec<u8>)> = Vec::new();
    for (i, (name, var)) in opt.vars.iter().enumerate() {
        let shape = var.shape().dims().to_vec();
        owned.push((
            format!("param/{name}"),
            shape.clone(),
            bytes(var.as_tensor())?,
        ));
        owned.push((format!("adam_m/{name}"), shape.clone(), bytes(&opt.m[i])?));
        owned.push((format!("adam_v/{name}"), shape, bytes(&opt.v[i])?));
    }
    let views = owned
        .iter()
        .map(|(n, s, b)| {
            TensorView::new(Dtype::F32, s.clone(), b)
                .map(|v| (n.as_str(), v))
                .map_err(|e| bad(path, format!("tensor {n}: {e}")))
        })
        .collect::<Result<Vec<_>>>()?;
    let info = HashMap::from([(
        "moravec".to_owned(),
        serde_json::to_string(header).expect("header serialises"),
    )]);
    let data = safetensors::serialize(views, Some(info)).map_err(|e| bad(path, e.to_string()))?;
    let tmp = path.with_extension("safetensors.tmp");
    std::fs::write(&tmp, data).map_err(|e| io("cannot write", &tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| io("cannot write", path, e))
}

/// Reads a checkpoint's header only.
pub fn read_header(path: &Path) -> Result<CheckpointHeader> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    header_of(path, &data)
}

/// The model saved in the checkpoint at `path`, on `device`, built from the header's configs
/// and filled with its weights (the optimiser's moments are not read).
pub fn load(path: &Path, device: &Device) -> Result<ModelVars> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    let header = header_of(path, &data)?;
    let st = SafeTensors::deserialize(&data).map_err(|e| bad(path, e.to_string()))?;
    let mut weights = HashMap::new();
    for (name, view) in st.tensors() {
        if let Some(var) = name.strip_prefix("param/") {
            weights.insert(var.to_owned(), tensor_of(path, &name, &view, device)?);
        }
    }
    models::load(&header.model, &header.config, &weights, device, path)
}

/// A stored F32 tensor as a tensor on `device`.
fn tensor_of(path: &Path, name: &str, view: &TensorView, device: &Device) -> Result<Tensor> {
    if view.dtype() != Dtype::F32 {
        return Err(bad(
            path,
            format!("tensor {name} is {:?}, expected F32", view.dtype()),
        ));
    }
    let v: Vec<f32> = view
        .data()
        .chunks_exact(4)
        .map(|c| f32::from_le_bytes([c[0], c[1], c[2], c[3]]))
        .collect();
    Ok(Tensor::from_vec(v, view.shape(), device)?)
}

fn header_of(path: &Path, data: &[u8]) -> Result<CheckpointHeader> {
    let (_, header) = SafeTensors::read_metadata(data)
        .map_err(|e| bad(path, format!("not a safetensors file: {e}")))?;
    let json = header
        .metadata()
        .as_ref()
        .and_then(|m| m.get("moravec"))
        .ok_or_else(|| bad(path, "no Moravec metadata: not a checkpoint of ours".into()))?;
    let header: CheckpointHeader =
        serde_json::from_str(json).map_err(|e| bad(path, format!("bad metadata: {e}")))?;
    if header.schema != SCHEMA {
        return Err(bad(
            path,
            format!("schema {} but this build reads {SCHEMA}", header.schema),
        ));
    }
    Ok(header)
}

/// Loads a checkpoint into `opt` (weights and moments) after checking that it belongs to the
/// model `model` with config `config`; returns its metadata.
pub fn restore(
    path: &Path,
    model: &str,
    config: &ModelConfig,
    opt: &mut AdamW,
) -> Result<CheckpointHeader> {
    let data = std::fs::read(path).map_err(|e| io("cannot read", path, e))?;
    let header = header_of(path, &data)?;
    if header.model != model {
        return Err(bad(
            path,
            format!("holds model `{}`, not `{model}`", header.model),
        ));
    }
    if &header.config != config {
        let json = |c: &ModelConfig| serde_json::to_string(c).expect("config serialises");
        return Err(bad(
            path,
            format!(
                "was trained with config {}, not {}",
                json(&header.config),
                json(config)
            ),
        ));
    }
    let st = SafeTensors::deserialize(&data).map_err(|e| bad(path, e.to_string()))?;
    let load = |name: &str, like: &Tensor| -> Result<Tensor> {
        let view = st
            .tensor(name)
            .map_err(|e| bad(path, format!("tensor {name}: {e}")))?;
        if view.shape() != like.dims() {
            return Err(bad(
                path,
                format!(
                    "tensor {name} is {:?}, expected {:?}",
                    view.shape(),
                    like.dims()
                ),
            ));
        }
        tensor_of(path, name, &view, like.device())
    };
    for i in 0..opt.vars.len() {
        let (name, var) = &opt.vars[i];
        var.set(&load(&format!("param/{name}"), var.as_tensor())?)?;
        opt.m[i] = load(&format!("adam_m/{name}"), var.as_tensor())?;
        opt.v[i] = load(&format!("adam_v/{name}"), var.as_tensor())?;
    }
    opt.step = header.step;
    Ok(header)
}

fn bad(path: &Path, reason: String) -> AgentError {
    AgentError::BadCheckpoint {
        path: path.to_owned(),
        reason,
    }
}

fn io(action: &'static str, path: &Path, source: std::io::Error) -> AgentError {
    AgentError::Io {
        action,
        path: path.to_owned(),
        source,
    }
}
