"""The names of what the analysis stores about a track, read by many packages (similarity's mood filter,
clustering's features, the chat prompt, the dashboard): one place, below all of them."""

MOOD_LABELS = ("danceable", "aggressive", "happy", "party", "relaxed", "sad")  # score.other_features, in order
TOP_N_MOODS = 5  # tags kept in score.mood_vector, highest first, as AudioMuse-AI stores them
