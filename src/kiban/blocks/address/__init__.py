"""Address base registry (アドレス・ベース・レジストリ)."""
