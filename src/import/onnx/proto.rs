//! The subset of `onnx.proto` (proto2, package `onnx`) that kiln reads and writes, written out as
//! prost messages with the field numbers of the official schema. Fields kiln never reads
//! (sub-graphs, sparse tensor contents, training info, model-local functions) are left out: prost
//! skips unknown fields when decoding, so files that carry them still parse.
//!
//! Scalar fields use proto3-style defaults (absent reads as zero or empty) because ONNX gives no
//! meaning to a present default. The repeated fields proto2 declares unpacked (`dims`, attribute
//! `ints` and `floats`) are written unpacked; both encodings are accepted when reading.

/// `onnx.ModelProto`: the file's top-level message.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ModelProto {
    /// IR version (field 1).
    #[prost(int64, tag = "1")]
    pub ir_version: i64,
    /// The operator sets the graph's nodes bind to (field 8).
    #[prost(message, repeated, tag = "8")]
    pub opset_import: Vec<OperatorSetIdProto>,
    /// Tool that wrote the file (field 2).
    #[prost(string, tag = "2")]
    pub producer_name: String,
    /// Version of that tool (field 3).
    #[prost(string, tag = "3")]
    pub producer_version: String,
    /// Reverse-DNS model domain (field 4).
    #[prost(string, tag = "4")]
    pub domain: String,
    /// Model version (field 5).
    #[prost(int64, tag = "5")]
    pub model_version: i64,
    /// Documentation (field 6).
    #[prost(string, tag = "6")]
    pub doc_string: String,
    /// The graph (field 7).
    #[prost(message, optional, tag = "7")]
    pub graph: Option<GraphProto>,
    /// Free-form key/value metadata (field 14).
    #[prost(message, repeated, tag = "14")]
    pub metadata_props: Vec<StringStringEntryProto>,
}

/// `onnx.OperatorSetIdProto`: one imported operator set.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OperatorSetIdProto {
    /// The domain; empty (or `ai.onnx`) for the standard operators (field 1).
    #[prost(string, tag = "1")]
    pub domain: String,
    /// The opset version (field 2).
    #[prost(int64, tag = "2")]
    pub version: i64,
}

/// `onnx.StringStringEntryProto`: one key/value pair (metadata, external-data location).
#[derive(Clone, PartialEq, prost::Message)]
pub struct StringStringEntryProto {
    /// The key (field 1).
    #[prost(string, tag = "1")]
    pub key: String,
    /// The value (field 2).
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `onnx.GraphProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct GraphProto {
    /// The nodes, supposedly in topological order (field 1).
    #[prost(message, repeated, tag = "1")]
    pub node: Vec<NodeProto>,
    /// The graph's name (field 2).
    #[prost(string, tag = "2")]
    pub name: String,
    /// Constant tensors (field 5).
    #[prost(message, repeated, tag = "5")]
    pub initializer: Vec<TensorProto>,
    /// Sparse constant tensors (field 15); kiln rejects them, so only their presence is read.
    #[prost(message, repeated, tag = "15")]
    pub sparse_initializer: Vec<OpaqueMessage>,
    /// Documentation (field 10).
    #[prost(string, tag = "10")]
    pub doc_string: String,
    /// Graph inputs; IR < 4 lists initializers here too (field 11).
    #[prost(message, repeated, tag = "11")]
    pub input: Vec<ValueInfoProto>,
    /// Graph outputs (field 12).
    #[prost(message, repeated, tag = "12")]
    pub output: Vec<ValueInfoProto>,
    /// Types of intermediate values (field 13).
    #[prost(message, repeated, tag = "13")]
    pub value_info: Vec<ValueInfoProto>,
}

/// A message whose contents kiln does not read (sparse tensors, non-tensor types): decoding it
/// skips every field, so the importer can reject it by name.
#[derive(Clone, PartialEq, prost::Message)]
pub struct OpaqueMessage {}

/// `onnx.NodeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct NodeProto {
    /// Input value names; empty for an omitted optional input (field 1).
    #[prost(string, repeated, tag = "1")]
    pub input: Vec<String>,
    /// Output value names (field 2).
    #[prost(string, repeated, tag = "2")]
    pub output: Vec<String>,
    /// The node's name, possibly empty (field 3).
    #[prost(string, tag = "3")]
    pub name: String,
    /// The operator (field 4).
    #[prost(string, tag = "4")]
    pub op_type: String,
    /// The operator's domain; empty for `ai.onnx` (field 7).
    #[prost(string, tag = "7")]
    pub domain: String,
    /// Attributes (field 5).
    #[prost(message, repeated, tag = "5")]
    pub attribute: Vec<AttributeProto>,
    /// Documentation (field 6).
    #[prost(string, tag = "6")]
    pub doc_string: String,
}

/// `onnx.AttributeProto.AttributeType`: which value field an attribute uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum AttributeType {
    /// Not set (IR < 2).
    Undefined = 0,
    /// `f`.
    Float = 1,
    /// `i`.
    Int = 2,
    /// `s`.
    String = 3,
    /// `t`.
    Tensor = 4,
    /// A sub-graph.
    Graph = 5,
    /// `floats`.
    Floats = 6,
    /// `ints`.
    Ints = 7,
    /// `strings`.
    Strings = 8,
    /// `tensors`.
    Tensors = 9,
    /// Sub-graphs.
    Graphs = 10,
    /// A sparse tensor.
    SparseTensor = 11,
    /// Sparse tensors.
    SparseTensors = 12,
}

/// `onnx.AttributeProto`: one named attribute of a node (sub-graph and sparse values skipped).
#[derive(Clone, PartialEq, prost::Message)]
pub struct AttributeProto {
    /// The attribute's name (field 1).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Reference to a function attribute; only valid inside functions (field 21).
    #[prost(string, tag = "21")]
    pub ref_attr_name: String,
    /// Documentation (field 13).
    #[prost(string, tag = "13")]
    pub doc_string: String,
    /// Which value field is used (field 20).
    #[prost(enumeration = "AttributeType", tag = "20")]
    pub r#type: i32,
    /// A float (field 2).
    #[prost(float, tag = "2")]
    pub f: f32,
    /// An integer (field 3).
    #[prost(int64, tag = "3")]
    pub i: i64,
    /// UTF-8 bytes (field 4).
    #[prost(bytes = "vec", tag = "4")]
    pub s: Vec<u8>,
    /// A tensor (field 5).
    #[prost(message, optional, tag = "5")]
    pub t: Option<TensorProto>,
    /// Floats (field 7).
    #[prost(float, repeated, packed = "false", tag = "7")]
    pub floats: Vec<f32>,
    /// Integers (field 8).
    #[prost(int64, repeated, packed = "false", tag = "8")]
    pub ints: Vec<i64>,
    /// Strings (field 9).
    #[prost(bytes = "vec", repeated, tag = "9")]
    pub strings: Vec<Vec<u8>>,
    /// Tensors (field 10).
    #[prost(message, repeated, tag = "10")]
    pub tensors: Vec<TensorProto>,
}

/// `onnx.ValueInfoProto`: a named value's declared type.
#[derive(Clone, PartialEq, prost::Message)]
pub struct ValueInfoProto {
    /// The value's name (field 1).
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its type (field 2).
    #[prost(message, optional, tag = "2")]
    pub r#type: Option<TypeProto>,
    /// Documentation (field 3).
    #[prost(string, tag = "3")]
    pub doc_string: String,
}

/// `onnx.TypeProto`: a value's type. kiln handles tensors; the other kinds parse and are rejected.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TypeProto {
    /// The kind of value (oneof `value`).
    #[prost(oneof = "TypeValue", tags = "1, 4, 5, 8, 9")]
    pub value: Option<TypeValue>,
    /// Type denotation (field 6).
    #[prost(string, tag = "6")]
    pub denotation: String,
}

/// The `value` oneof of [`TypeProto`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum TypeValue {
    /// A dense tensor (field 1).
    #[prost(message, tag = "1")]
    TensorType(TensorTypeProto),
    /// A sequence (field 4).
    #[prost(message, tag = "4")]
    SequenceType(OpaqueMessage),
    /// A map (field 5).
    #[prost(message, tag = "5")]
    MapType(OpaqueMessage),
    /// A sparse tensor (field 8).
    #[prost(message, tag = "8")]
    SparseTensorType(OpaqueMessage),
    /// An optional value (field 9).
    #[prost(message, tag = "9")]
    OptionalType(OpaqueMessage),
}

/// `onnx.TypeProto.Tensor`: element type and shape.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorTypeProto {
    /// A `TensorProto.DataType` code (field 1).
    #[prost(int32, tag = "1")]
    pub elem_type: i32,
    /// The shape, if declared (field 2).
    #[prost(message, optional, tag = "2")]
    pub shape: Option<TensorShapeProto>,
}

/// `onnx.TensorShapeProto`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorShapeProto {
    /// One entry per axis (field 1).
    #[prost(message, repeated, tag = "1")]
    pub dim: Vec<DimensionProto>,
}

/// `onnx.TensorShapeProto.Dimension`.
#[derive(Clone, PartialEq, prost::Message)]
pub struct DimensionProto {
    /// A fixed extent or a symbol; neither means unknown (oneof `value`).
    #[prost(oneof = "DimensionValue", tags = "1, 2")]
    pub value: Option<DimensionValue>,
    /// Dimension denotation (field 3).
    #[prost(string, tag = "3")]
    pub denotation: String,
}

/// The `value` oneof of [`DimensionProto`].
#[derive(Clone, PartialEq, prost::Oneof)]
pub enum DimensionValue {
    /// A known extent (field 1).
    #[prost(int64, tag = "1")]
    DimValue(i64),
    /// A symbolic extent (field 2).
    #[prost(string, tag = "2")]
    DimParam(String),
}

/// `onnx.TensorProto.DataLocation`: where a tensor's bytes live.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, prost::Enumeration)]
#[repr(i32)]
pub enum DataLocation {
    /// In this message.
    Default = 0,
    /// In a file named by `external_data`.
    External = 1,
}

/// `onnx.TensorProto.Segment`: a chunk of a tensor split across messages (rejected by kiln).
#[derive(Clone, PartialEq, prost::Message)]
pub struct SegmentProto {
    /// First element (field 1).
    #[prost(int64, tag = "1")]
    pub begin: i64,
    /// One past the last element (field 2).
    #[prost(int64, tag = "2")]
    pub end: i64,
}

/// `onnx.TensorProto`: a serialized tensor (initializers, constants, test data).
#[derive(Clone, PartialEq, prost::Message)]
pub struct TensorProto {
    /// The shape (field 1).
    #[prost(int64, repeated, packed = "false", tag = "1")]
    pub dims: Vec<i64>,
    /// A `DataType` code (field 2).
    #[prost(int32, tag = "2")]
    pub data_type: i32,
    /// Set when this message holds only part of the tensor (field 3).
    #[prost(message, optional, tag = "3")]
    pub segment: Option<SegmentProto>,
    /// FLOAT elements (field 4).
    #[prost(float, repeated, tag = "4")]
    pub float_data: Vec<f32>,
    /// INT32, INT16, INT8, UINT16, UINT8, BOOL and FLOAT16 (as bits) elements (field 5).
    #[prost(int32, repeated, tag = "5")]
    pub int32_data: Vec<i32>,
    /// STRING elements (field 6).
    #[prost(bytes = "vec", repeated, tag = "6")]
    pub string_data: Vec<Vec<u8>>,
    /// INT64 elements (field 7).
    #[prost(int64, repeated, tag = "7")]
    pub int64_data: Vec<i64>,
    /// The tensor's name (field 8).
    #[prost(string, tag = "8")]
    pub name: String,
    /// Documentation (field 12).
    #[prost(string, tag = "12")]
    pub doc_string: String,
    /// Elements as fixed-width little-endian bytes (field 9).
    #[prost(bytes = "vec", optional, tag = "9")]
    pub raw_data: Option<Vec<u8>>,
    /// `location`, `offset`, `length` of external data (field 13).
    #[prost(message, repeated, tag = "13")]
    pub external_data: Vec<StringStringEntryProto>,
    /// Where the bytes live (field 14).
    #[prost(enumeration = "DataLocation", tag = "14")]
    pub data_location: i32,
    /// DOUBLE elements (field 10).
    #[prost(double, repeated, tag = "10")]
    pub double_data: Vec<f64>,
    /// UINT32 and UINT64 elements (field 11).
    #[prost(uint64, repeated, tag = "11")]
    pub uint64_data: Vec<u64>,
}

/// `onnx.TensorProto.DataType` codes kiln maps to a [`crate::tensor::DType`], and the names of the
/// others for messages.
pub mod data_type {
    /// FLOAT.
    pub const FLOAT: i32 = 1;
    /// UINT8.
    pub const UINT8: i32 = 2;
    /// INT8.
    pub const INT8: i32 = 3;
    /// INT32.
    pub const INT32: i32 = 6;
    /// INT64.
    pub const INT64: i32 = 7;
    /// BOOL.
    pub const BOOL: i32 = 9;
    /// FLOAT16.
    pub const FLOAT16: i32 = 10;
    /// UINT4 (opset 21): two values per byte, the first in the low nibble.
    pub const UINT4: i32 = 21;
    /// INT4 (opset 21): two values per byte, the first in the low nibble.
    pub const INT4: i32 = 22;

    /// The ONNX name of a data-type code (`DOUBLE`, `BFLOAT16`), or `code N` for unknown ones.
    pub fn name(code: i32) -> String {
        const NAMES: [&str; 24] = [
            "UNDEFINED",
            "FLOAT",
            "UINT8",
            "INT8",
            "UINT16",
            "INT16",
            "INT32",
            "INT64",
            "STRING",
            "BOOL",
            "FLOAT16",
            "DOUBLE",
            "UINT32",
            "UINT64",
            "COMPLEX64",
            "COMPLEX128",
            "BFLOAT16",
            "FLOAT8E4M3FN",
            "FLOAT8E4M3FNUZ",
            "FLOAT8E5M2",
            "FLOAT8E5M2FNUZ",
            "UINT4",
            "INT4",
            "FLOAT4E2M1",
        ];
        usize::try_from(code)
            .ok()
            .and_then(|index| NAMES.get(index))
            .map_or_else(|| format!("code {code}"), |name| (*name).to_string())
    }
}
