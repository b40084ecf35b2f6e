"""Ray Serve application (similarity deployment + AudioMuse-AI-compatible HTTP API).

Not built yet: the similarity issue adds it here. Until then `audiomuse-ray serve` does not exist and
run.sh says so after the analysis.
"""
