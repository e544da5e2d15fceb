"""Deployment artifacts: TF Serving SavedModels (signatures, warm-up, models.config) and TFLite files.

Example:
>>> from tfgan_app.export import export_run
>>> export_run("runs/dcgan_mnist", base_dir="export").version_dir
'export/dcgan_mnist/1'
"""

from tfgan_app.artifacts.run_dir import TrainedGenerator, load_keras_generator, load_run
from tfgan_app.export.exporter import DEFAULT_BASE_DIR, ExportResult, export_generator, export_run
from tfgan_app.export.kinds import SIGNATURES, TEXT_SIGNATURES, TRANSLATOR_SIGNATURES
from tfgan_app.export.savedmodel import CaptionModule, GeneratorModule, TranslatorModule, write_savedmodel
from tfgan_app.artifacts.layout import list_versions
from tfgan_app.export.serving_config import list_models, read_models_config, write_models_config
from tfgan_app.artifacts.tflite_runner import TFLiteGenerator
from tfgan_app.export.tflite import QUANTIZATIONS, export_tflite
from tfgan_app.export.warmup import read_warmup, write_warmup

__all__ = [
    "DEFAULT_BASE_DIR", "ExportResult", "export_generator", "export_run", "TrainedGenerator",
    "load_keras_generator", "load_run", "SIGNATURES", "GeneratorModule", "write_savedmodel",
    "TRANSLATOR_SIGNATURES", "TranslatorModule", "TEXT_SIGNATURES", "CaptionModule", "list_models",
    "list_versions", "read_models_config", "write_models_config", "QUANTIZATIONS", "TFLiteGenerator",
    "export_tflite", "read_warmup", "write_warmup",
]
