// The chart library as the page loads it: ../uPlot.esm.js, the npm package's ES module that
// Trunk copies into the built page (index.html), typed by the package's own declarations.
export { default } from "uplot";
