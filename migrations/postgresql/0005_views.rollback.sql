-- Undo 0005: drop the reporting views.

DROP VIEW open_positions_pnl;

DROP VIEW daily_strategy_pnl;
