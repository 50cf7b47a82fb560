"""Ops that are exact compositions of others: no derivative code of their own.

Each entry says what it is made of (`compose`, written with the same `Builder` as rules); its
forward, shape, VJP, JVP and rule for `grad` follow from the parts' (core.py `composite`).
"""

from __future__ import annotations
