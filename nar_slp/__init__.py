"""nar-slp: Non-Autoregressive Sign Language Production via Knowledge Distillation.

A reproducible implementation of Hwang, Kim, Cho & Park (2022), "Non-Autoregressive
Sign Language Production via Knowledge Distillation", with its baselines and
evaluation suite.

Dimension letters used in shape comments throughout the package:

    B  batch                      T  frames (25 fps)
    L  text tokens                J  joints (50, Progressive-Transformers layout)
    K  coordinates per joint (3)  Z  VAE latent size
    D  model width                F  flattened pose values per frame (J * K = 150)
    W  frames in an evaluation window (34 for FGD)

Paper terms and their names in code (see README's glossary):

    LGM (Latent Guiding Module, teacher)  -> ``PoseVAE.lgm`` (the mean of q(z|y))
    PGM (Pose Generating Module)          -> ``PoseVAE.decode``
    LLM (Latent Learning Module, student) -> ``TextToLatentStudent`` (models/student.py)
"""

__version__ = "0.1.0"
