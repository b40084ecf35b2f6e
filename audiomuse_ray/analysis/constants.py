"""Signal-processing and model constants, with units, in one place (they must match the trained model)."""

SAMPLE_RATE_HZ = 16_000  # MusiCNN was trained on 16 kHz mono
N_FFT = 512  # samples per STFT window (32 ms)
HOP_LENGTH = 256  # samples between STFT frames (16 ms)
N_MELS = 96  # mel bands, slaney scale and norm
LOG_MEL_SCALE = 10_000.0  # log10(1 + 10000 * mel)
PATCH_FRAMES = 187  # frames per model input patch: 3 s at 16 ms per frame
PATCH_HOP_FRAMES = 187  # no overlap between patches, as musicnn's extractor does by default
PATCH_SECONDS = (PATCH_FRAMES - 1) * HOP_LENGTH / SAMPLE_RATE_HZ + N_FFT / SAMPLE_RATE_HZ  # ~3.0 s

EMBEDDING_DIM = 200  # units of the penultimate dense layer (before its activation)
N_TAGS = 50

MAX_ANALYSED_SECONDS = 600.0  # longer tracks are sampled: MAX_SEGMENTS evenly spaced segments covering this much
MAX_SEGMENTS = 10
MIN_SECONDS = PATCH_SECONDS  # shorter audio is padded by repetition up to one patch when at least MIN_PAD_SECONDS
MIN_PAD_SECONDS = 1.0

from audiomuse_ray.labels import MOOD_LABELS, TOP_N_MOODS  # noqa: E402,F401  (the analysis writes what they name)
