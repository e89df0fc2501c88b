from cases import Case, FixCase, weights

RULE = "OL605"
MODEL = """
<ir_version: 10, opset_import: ["" : 17]>
g (float[{batch},3,8,8] x) => (float[{batch},4,8,8] y) <float[4,3,3,3] w = {{{w}}}> {{
  c = Conv <pads = [1, 1, 1, 1]> (x, w)
  y = {act} (c)
}}"""
QNN = {"target": "qnn-htp"}
CASES = [
    Case("a symbolic batch keeps every node off the HTP", MODEL.format(batch="N", w=weights(108), act="Relu"),
         settings=QNN, fires={None: ["qnn-htp: 2 of 2 nodes (100.0% of the MACs) stay on the CPU: dynamic dim",
                                     "input 'x' declared [N,3,8,8]", "--target qnn-htp --select OL605"]}),
    Case("a fixed batch: the HTP takes both", MODEL.format(batch=1, w=weights(108), act="Relu"), settings=QNN),
    Case("an op without a QNN op builder", MODEL.format(batch=1, w=weights(108), act="Softplus"), settings=QNN,
         fires={None: ["1 of 2 nodes", "no QNN op builder (Softplus)"]}),
    Case("OpenVINO takes the model whole, its batch symbolic", MODEL.format(batch="N", w=weights(108), act="Relu"),
         settings={"target": "openvino"}),
    Case("no target, no deployment view", MODEL.format(batch="N", w=weights(108), act="Relu")),
]
FIXES = [
    FixCase("the symbolic batch written at 1", MODEL.format(batch="N", w=weights(108), act="Relu"),
            ops=["Conv", "Relu"], settings=QNN),
]
