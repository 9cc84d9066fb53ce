"""Assessment: schemes and rounds that grade members and consortia on indicators, with published reports."""
