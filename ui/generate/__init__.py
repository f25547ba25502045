"""The Generate view: form, progress, result and History, composed by ``panel.GeneratePanel``."""
