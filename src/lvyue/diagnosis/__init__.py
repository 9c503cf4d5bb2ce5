"""Logistics diagnosis 物流诊断 (LD-1..LD-11): metrics, governance, peers, settlement model."""
