package io.qspec.accept;

import org.apache.commons.math3.stat.inference.ChiSquareTest;

/**
 * Pearson chi-square goodness of fit of observed counts against expected probabilities (Apache
 * Commons Math). Categories with expected probability 0 cannot enter the statistic; counts landing
 * there are reported separately as {@code impossible} (any is a failure of a lossless policy).
 */
record ChiSquareFit(double statistic, double pValue, int degreesOfFreedom, long impossible, long trials) {

    static ChiSquareFit of(double[] expectedProbabilities, long[] observed) {
        int support = 0;
        long impossible = 0;
        long trials = 0;
        for (int i = 0; i < observed.length; i++) {
            trials += observed[i];
            if (expectedProbabilities[i] > 0) {
                support++;
            } else {
                impossible += observed[i];
            }
        }
        double[] expected = new double[support];
        long[] counts = new long[support];
        for (int i = 0, j = 0; i < observed.length; i++) {
            if (expectedProbabilities[i] > 0) {
                expected[j] = expectedProbabilities[i] * trials;
                counts[j++] = observed[i];
            }
        }
        ChiSquareTest test = new ChiSquareTest();
        return new ChiSquareFit(test.chiSquare(expected, counts), test.chiSquareTest(expected, counts),
                support - 1, impossible, trials);
    }

    @Override
    public String toString() {
        return String.format("chi2=%.2f df=%d p-value=%.4g impossible=%d n=%d",
                statistic, degreesOfFreedom, pValue, impossible, trials);
    }
}
