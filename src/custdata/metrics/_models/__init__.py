"""The predictive models (the ``models`` extra: numpy and scipy)."""

from custdata.metrics._models._spend import GammaGammaModel
from custdata.metrics._models._subscription import ShiftedBetaGeoModel
from custdata.metrics._models._transactions import BetaGeoModel, ModifiedBetaGeoModel, ParetoNBDModel

__all__ = ["BetaGeoModel", "GammaGammaModel", "ModifiedBetaGeoModel", "ParetoNBDModel", "ShiftedBetaGeoModel"]
