"""The price model's option shared by the modules that price things in US dollars (clore_market_info, clore_order,
clore_order_info); set it once for all of them with module_defaults and group/clore.ai.clore."""


class ModuleDocFragment:
    DOCUMENTATION = r"""
options:
  usd_rates:
    description:
      - "US dollars per unit of each coin, for example C({CLORE-Blockchain: 0.025, bitcoin: 60000}), used only for a
        coin that nothing else prices - a row's own dollar figures, the coin rates of the same marketplace answer, and
        the C(currency_rates_in_usd) of one C(spot_marketplace) call come first (docs/market.md, section How prices
        are compared). A price computed so has C(usd_source=usd_rates)."
      - Set it once for every module with C(module_defaults) and the group C(group/clore.ai.clore).
      - Coins as the API spells them (V(bitcoin), V(CLORE-Blockchain), V(USD-Blockchain)) or as V(BTC), V(CLORE),
        V(USD), in any case; each rate must be a positive number.
    type: dict
"""
