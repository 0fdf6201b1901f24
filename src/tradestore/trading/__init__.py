"""The trading domain built on the kit: the store, its inputs and row models, the order
lifecycle, the audit trail, retention, repositories, the generated query surface and the demo.

Nothing below this package imports it (a test walks the imports to keep it so).
"""
