package io.qspec.model;

/**
 * Llama-3 RoPE frequency scaling ({@code rope_type = "llama3"}): long wavelengths are divided by
 * {@code factor}, short ones kept, and the band between is interpolated smoothly.
 */
public record RopeScaling(float factor, float lowFreqFactor, float highFreqFactor, int originalContextLength) {

    /** The scaled inverse frequency for one rotary dimension pair, as Llama 3 defines it. */
    public double scale(double inverseFrequency) {
        double lowFreqWavelen = originalContextLength / lowFreqFactor;
        double highFreqWavelen = originalContextLength / highFreqFactor;
        double wavelen = 2 * Math.PI / inverseFrequency;
        if (wavelen < highFreqWavelen) {
            return inverseFrequency;
        }
        if (wavelen > lowFreqWavelen) {
            return inverseFrequency / factor;
        }
        double smooth = (originalContextLength / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
        return (1 - smooth) * inverseFrequency / factor + smooth * inverseFrequency;
    }
}
