"""A tools/model/train.py checkpoint (.pt) -> ferc_graph.Graph, via ONNX in memory: the
module is rebuilt from models.py, exported with torch.onnx and read back, so .pt files go
through the same builder as every other format. Metadata (labels, preprocessing,
provenance) comes from the checkpoint."""
import io

from ferc_graph import ConvertError


def read(path):
    import torch
    # A .pt file is a pickle, which can run code when loaded: convert only checkpoints you
    # made (torch 1.13's weights_only loader rejects train.py's float metrics).
    try:
        ck = torch.load(path, map_location="cpu")
    except Exception as e:
        raise ConvertError(f"{path}: not a readable train.py checkpoint ({type(e).__name__}: "
                           f"{str(e).splitlines()[0] if str(e) else 'damaged'})")
    if not isinstance(ck, dict) or "model" not in ck or "state_dict" not in ck:
        raise ConvertError(f"{path}: not a train.py checkpoint (needs the keys 'model' and 'state_dict')")
    import models
    import onnx
    import onnx_reader
    try:
        model = models.build(ck["model"])
    except KeyError as e:
        raise ConvertError(f"{path}: {e.args[0]}")
    try:
        model.load_state_dict(ck["state_dict"])
    except (RuntimeError, TypeError) as e:
        raise ConvertError(f"{path}: state_dict does not fit model '{ck['model']}': {str(e).splitlines()[0]}")
    model.eval()
    size = models.INPUT_SIZE
    buf = io.BytesIO()
    torch.onnx.export(model, torch.zeros(1, 1, size, size), buf, opset_version=13, input_names=["input"],
                      output_names=["logits"])
    g = onnx_reader.from_model(onnx.load_from_string(buf.getvalue()))
    m = ck.get("metrics", {})
    meta = {"task": "emotion", "architecture": ck["model"], "input": f"{size}x{size} gray",
            "mean": ck.get("mean", models.MEAN), "std": ck.get("std", models.STD),
            "dataset": "FER2013 Training (28,709); selected on PublicTest (val)", "source": "tools/model/train.py checkpoint"}
    if ck.get("classes"):
        meta["labels"] = ",".join(ck["classes"])
    if ck.get("clahe"):
        meta["clahe"] = "%g,%d" % tuple(ck["clahe"])
    if ck.get("equalize"):
        meta["equalize"] = 1  # trained on cv2.equalizeHist'ed faces (train.py --equalize)
    if "epoch" in ck:
        meta["epoch"] = ck["epoch"]
    if "val_acc" in m:
        meta["accuracy"] = f"val {m['val_acc']:.4f}, val with flip TTA {m.get('val_acc_tta', 0):.4f} (PyTorch)"
    return g, meta
