//! How a dataset's tensors become bytes, shared by the reader and the writers: the tensor names
//! in hashing order, little-endian `f32`s, and the hex digests in `meta.json` and directory names.

/// Tensor names in hashing order.
pub const TENSORS: [&str; 5] = ["frames", "actions", "states", "body_mask", "masks"];

/// The raw little-endian bytes of `values`, as they are stored in a shard and hashed.
pub(super) fn le_bytes<'a>(values: impl Iterator<Item = &'a f32>) -> Vec<u8> {
    values.flat_map(|v| v.to_le_bytes()).collect()
}

/// Lower-case hex of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
