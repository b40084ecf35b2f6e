"""Audio analysis: decoding, log-mel patches, MusiCNN through ONNX, tempo/key/energy and moods.

``track.analyze_file`` is pure (file in, ``TrackAnalysis`` out); ``run`` fans it out over Ray.
"""
