"""Answering: the question plan, evidence and refusal, the extractive composer and the LLM modes.

Modules are imported where used, so an extractive question never loads llama-index.
"""
