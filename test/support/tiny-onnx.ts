/**
 * Writes a tiny ONNX model (opset 13) whose "hidden state" for each token is [token id, m * n], m the
 * token's attention mask and n the number of unmasked tokens in its row: inputs input_ids and
 * attention_mask only (no token_type_ids), output last_hidden_state [batch, seq, 2]. Mean-pooled,
 * the ratio of the two components is mean(ids) / n, so it tells which ids and mask the embedder fed.
 */
import protobuf from 'protobufjs';

const { Writer } = protobuf;
const VARINT = 0;
const BYTES = 2;
const FLOAT = 1;
const INT64 = 7;

type Field = (w: protobuf.Writer) => void;

const str = (field: number, value: string): Field => (w) => void w.uint32((field << 3) | BYTES).string(value);
const int = (field: number, value: number): Field => (w) => void w.uint32((field << 3) | VARINT).int64(value);
const msg = (field: number, ...parts: Field[]): Field => (w) => {
  w.uint32((field << 3) | BYTES).fork();
  for (const p of parts) p(w);
  w.ldelim();
};

// ValueInfoProto(name=1, type=2) > TypeProto(tensor_type=1) > Tensor(elem_type=1, shape=2) > Dimension(dim_value=1, dim_param=2)
const tensorInfo = (field: number, name: string, elemType: number, dims: (number | string)[]): Field =>
  msg(
    field,
    str(1, name),
    msg(2, msg(1, int(1, elemType), msg(2, ...dims.map((d) => msg(1, typeof d === 'number' ? int(1, d) : str(2, d)))))),
  );

// NodeProto(input=1, output=2, name=3, op_type=4, attribute=5) > AttributeProto(name=1, i=3, type=20; INT=2)
const node = (op: string, inputs: string[], output: string, attrs: Record<string, number> = {}): Field =>
  msg(
    1,
    ...inputs.map((i) => str(1, i)),
    str(2, output),
    str(3, `${op}_${output}`),
    str(4, op),
    ...Object.entries(attrs).map(([k, v]) => msg(5, str(1, k), int(3, v), int(20, 2))),
  );

export function tinyIdsModel(): Uint8Array {
  const w = Writer.create();
  int(1, 8)(w); // ir_version
  msg(8, str(1, ''), int(2, 13))(w); // opset_import
  msg(
    7, // graph
    node('Cast', ['input_ids'], 'ids_f', { to: FLOAT }),
    node('Cast', ['attention_mask'], 'mask_f', { to: FLOAT }),
    node('Unsqueeze', ['ids_f', 'axes'], 'ids_u'),
    node('ReduceSum', ['mask_f', 'seq_axis'], 'count', { keepdims: 1 }),
    node('Mul', ['mask_f', 'count'], 'mask_count'),
    node('Unsqueeze', ['mask_count', 'axes'], 'mask_u'),
    node('Concat', ['ids_u', 'mask_u'], 'last_hidden_state', { axis: 2 }),
    str(2, 'tiny-ids'),
    // TensorProto(dims=1, data_type=2, int64_data=7, name=8): the axis to unsqueeze at.
    msg(5, int(1, 1), int(2, INT64), int(7, 2), str(8, 'axes')),
    msg(5, int(1, 1), int(2, INT64), int(7, 1), str(8, 'seq_axis')),
    tensorInfo(11, 'input_ids', INT64, ['batch', 'seq']),
    tensorInfo(11, 'attention_mask', INT64, ['batch', 'seq']),
    tensorInfo(12, 'last_hidden_state', FLOAT, ['batch', 'seq', 2]),
  )(w);
  return w.finish();
}
