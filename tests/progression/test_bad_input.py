"""Bad input: every problem is a DataError that names the column, subject or value."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from progression.longitudinal import prepare_longitudinal
from progression.metrics import evaluate_forecast
from progression.schema import check_forecast, normalise_dx
from sem.errors import DataError

from .conftest import make_d4, make_forecast


def visits(**cols):
    base = {"RID": [1, 1, 2], "EXAMDATE": ["2010-01-05", "2011-01-07", "2010-03-01"],
            "DX": ["NL", "MCI", "Dementia"], "ADAS13": [8.0, 12.0, 30.0],
            "Ventricles": [20000.0, 21000.0, 40000.0], "ICV": [1.5e6, np.nan, 1.4e6],
            "AGE": [70.0, 70.0, 75.0]}
    base.update(cols)
    return pd.DataFrame(base)


def test_longitudinal_table_is_prepared():
    d = prepare_longitudinal(visits())
    assert list(d["DX"]) == ["CN", "MCI", "AD"]
    assert d.loc[1, "ICV_bl"] == 1.5e6                      # baseline ICV carried
    assert d.loc[1, "Ventricles_ICV"] == pytest.approx(21000 / 1.5e6)
    assert d.loc[1, "AGE_VISIT"] == pytest.approx(70 + 367 / 365.25)
    assert d.loc[0, "EXAM_MONTH"] == 121                    # Jan 2010, Jan 2000 = 1


def test_dates_that_do_not_parse():
    with pytest.raises(DataError, match=r"EXAMDATE.*RID 2: '2010-13-01'"):
        prepare_longitudinal(visits(EXAMDATE=["2010-01-05", "2011-01-07", "2010-13-01"]))
    d4 = make_d4([1], ["CN"], [10.0], [0.02], cog="05/06/2018")
    fc = make_forecast([1], np.eye(3)[:1], np.array([[10, 9, 11.]]),
                       np.array([[0.02, 0.01, 0.03]]))
    with pytest.raises(DataError, match="CognitiveAssessmentDate.*05/06/2018"):
        evaluate_forecast(d4, fc)
    bad = fc.copy()
    bad.loc[3, "Forecast Date"] = "2018/04"
    with pytest.raises(DataError, match="Forecast Date.*2018/04"):
        check_forecast(bad)


def test_unknown_diagnosis_labels():
    with pytest.raises(DataError, match=r"unknown diagnosis label.*Alzheimer.*RID \[?2"):
        prepare_longitudinal(visits(DX=["NL", "MCI", "Alzheimer"]))
    d4 = make_d4([1], ["Probable AD?"], [10.0], [0.02])
    fc = make_forecast([1], np.eye(3)[:1], np.array([[10, 9, 11.]]),
                       np.array([[0.02, 0.01, 0.03]]))
    with pytest.raises(DataError, match="Diagnosis"):
        evaluate_forecast(d4, fc)
    assert list(normalise_dx(["CN", "NL", "MCI to Dementia", "EMCI", 2, np.nan, "AD"])[:5]) == \
        ["CN", "CN", "AD", "MCI", "AD"]


def test_ventricles_without_icv():
    no_icv = visits().drop(columns=["ICV"])
    with pytest.raises(DataError, match="neither 'ICV' nor 'ICV_bl'"):
        prepare_longitudinal(no_icv)
    orphan = visits(ICV=[1.5e6, np.nan, np.nan])
    with pytest.raises(DataError, match=r"RID \[2\].*no ICV"):
        prepare_longitudinal(orphan)
    with pytest.warns(UserWarning, match="treated as missing"):
        d = prepare_longitudinal(orphan, icv="drop")
    assert np.isnan(d.loc[2, "Ventricles_ICV"])


def test_d4_ventricles_in_mm3_are_refused():
    d4 = make_d4([1], ["CN"], [10.0], [25000.0])
    fc = make_forecast([1], np.eye(3)[:1], np.array([[10, 9, 11.]]),
                       np.array([[0.02, 0.01, 0.03]]))
    with pytest.raises(DataError, match="divided by intracranial volume"):
        evaluate_forecast(d4, fc)


def test_missing_subjects_and_months_are_named(perfect):
    d4, fc = perfect
    with pytest.raises(DataError, match=r"no forecast: RID \[6\]"):
        evaluate_forecast(d4, fc[fc["RID"] != 6])
    short = fc[~((fc["RID"] == 2) & fc["Forecast Date"].isin(["2019-03", "2020-11"]))]
    with pytest.raises(DataError, match=r"RID 2 has 58 month\(s\), lacks \['2019-03', '2020-11'\]"):
        evaluate_forecast(d4, short)
    # the D4 variant needs 48 months only
    four_years = fc[pd.to_datetime(fc["Forecast Date"]) < "2022-01-01"]
    evaluate_forecast(d4, four_years, variant="d4")


def test_probabilities_negative_or_all_zero(perfect):
    d4, fc = perfect
    zero = fc.copy()
    zero.loc[zero["RID"] == 3, ["CN relative probability", "MCI relative probability",
                                "AD relative probability"]] = 0.0
    with pytest.raises(DataError, match=r"all zero.*RID 3 2018-01"):
        evaluate_forecast(d4, zero)
    neg = fc.copy()
    neg.loc[neg["RID"] == 4, "MCI relative probability"] = -0.2
    with pytest.warns(UserWarning, match=r"negative relative probabilities for RID \[4\]"):
        evaluate_forecast(d4, neg)


def test_missing_forecast_values_and_columns(perfect):
    d4, fc = perfect
    with pytest.raises(DataError, match="lacks column"):
        evaluate_forecast(d4, fc.drop(columns=["ADAS13 50% CI upper"]))
    holes = fc.copy()
    holes.loc[5, "ADAS13"] = np.nan
    with pytest.raises(DataError, match=r"'ADAS13' is missing for RID \[1\]"):
        evaluate_forecast(d4, holes)
    dup = pd.concat([fc, fc.iloc[[0]]])
    with pytest.raises(DataError, match="more than once"):
        evaluate_forecast(d4, dup)


def test_d4_date_needed_only_with_its_target():
    d4 = make_d4([1, 2, 3], ["CN", "MCI", "AD"], [10.0, 20.0, 30.0],
                 [0.02, np.nan, 0.04], scan=["2018-06-10", np.nan, "2018-06-10"])
    fc = make_forecast([1, 2, 3], np.eye(3), np.array([[10, 9, 11], [20, 19, 21], [30, 29, 31.]]),
                       np.array([[0.02, 0.01, 0.03]] * 3))
    evaluate_forecast(d4, fc)
    d4.loc[2, "ScanDate"] = np.nan
    with pytest.raises(DataError, match=r"'ScanDate' is missing for RID \[3\]"):
        evaluate_forecast(d4, fc)


def test_empty_tables_are_data_errors(perfect):
    d4, fc = perfect
    # an empty D4 used to fail deep inside pandas (TypeError on a StringArray)
    with pytest.raises(DataError, match="D4 table has no rows"):
        evaluate_forecast(d4.iloc[:0], fc)
    with pytest.raises(DataError, match="forecast table has no rows"):
        evaluate_forecast(d4, fc.iloc[:0])


def test_rid_written_as_text_in_one_table_is_explained(perfect):
    d4, fc = perfect
    with pytest.raises(DataError, match=r"no forecast: RID \[1, 2.*write RID "
                                        r"differently: D4 as \w+, the forecast as int64"):
        evaluate_forecast(d4.assign(RID=d4["RID"].astype(str)), fc)


def test_age_at_visit_from_tadpole_years_since_adni_baseline():
    """A D3-style history (only each subject's last visit) dates the visit by TADPOLE's
    Years_bl (or Month_bl / 12): AGE is the ADNI baseline age on every row, so without
    them the visit would be dated to the baseline, years too young."""
    last = visits(ICV=[1.5e6, 1.5e6, 1.4e6]).iloc[[1, 2]].assign(Years_bl=[1.0, 4.5])
    d = prepare_longitudinal(last)
    assert d["AGE_VISIT"].tolist() == pytest.approx([71.0, 79.5])
    d = prepare_longitudinal(last.drop(columns="Years_bl").assign(Month_bl=[12, 54]))
    assert d["AGE_VISIT"].tolist() == pytest.approx([71.0, 79.5])
    # a missing Years_bl falls back to the first visit in the table
    d = prepare_longitudinal(visits().assign(Years_bl=[0.0, np.nan, 0.0]))
    assert d.loc[1, "AGE_VISIT"] == pytest.approx(70 + 367 / 365.25)


def test_cohort_size_must_be_a_whole_number():
    from progression import simulate_cohort

    with pytest.raises(ValueError, match="n_subjects must be a positive integer"):
        simulate_cohort(100.5)                            # was truncated to 100
    with pytest.raises(ValueError, match="n_subjects must be at least 10"):
        simulate_cohort(5)
